# frozen_string_literal: true

# Appends backup-agent log lines to FILE as the real libraries write them: the
# access lines by Rack::CommonLogger in front of a Rack app, the messages by
# Ruby's Logger. Steps come as JSON on stdin, each at a time of its own (Time.now
# is set to it, so a history of days is written in a moment):
#
#   [{ "at": "2018-11-22T04:00:15.2Z", "request": "POST /v1/backup", "status": 200 },
#    { "at": "2018-11-22T04:00:20Z", "log": "pg_basebackup started for a9s-pg-1542859215559" },
#    { "at": "2018-11-22T04:01:28Z", "log": "success", "severity": "INFO" }]
#
#   ruby scripts/a9s-log.rb FILE < steps.json
#   A9S_LOG_PID=4242 ruby scripts/a9s-log.rb FILE < steps.json   # a restarted agent
require 'json'
require 'logger'
require 'rack'
require 'time'

# The clock the steps set; Logger and CommonLogger both read Time.now.
module SteppedClock
  class << self
    attr_accessor :now
  end
end

class << Time
  alias_method :real_now, :now
  def now(*args, **kw)
    SteppedClock.now || real_now(*args, **kw)
  end
end

# One backup-agent process writes a log, whatever number of runs append to it:
# Logger prints Process.pid, so it is pinned (A9S_LOG_PID, default the seed's).
PINNED_PID = Integer(ENV.fetch('A9S_LOG_PID', '31554'))
module Process
  def self.pid
    PINNED_PID
  end
end

file = ARGV.fetch(0) { abort 'usage: ruby scripts/a9s-log.rb FILE < steps.json' }
out = File.open(file, 'a')
out.sync = true
logger = Logger.new(out)
steps = JSON.parse($stdin.read)

steps.each do |step|
  SteppedClock.now = Time.iso8601(step.fetch('at')).utc
  if step['request']
    method, path = step['request'].split(' ', 2)
    status = step.fetch('status', 200)
    body = status == 200 ? '{"message":"ok"}' : '{"error":"refused"}'
    app = Rack::CommonLogger.new(->(_env) { [status, { 'Content-Length' => body.bytesize.to_s }, [body]] }, out)
    env = Rack::MockRequest.env_for(path, method: method, 'REMOTE_ADDR' => step.fetch('from', '172.28.19.56'),
                                          'REMOTE_USER' => 'admin', 'HTTP_VERSION' => 'HTTP/1.1',
                                          'SERVER_PROTOCOL' => 'HTTP/1.1')
    _, _, response = app.call(env)
    response.close if response.respond_to?(:close)
  else
    severity = Logger.const_get(step.fetch('severity', 'INFO'))
    logger.add(severity, step.fetch('log'))
  end
end
