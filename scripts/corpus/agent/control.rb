# frozen_string_literal: true

require 'json'
require 'rack'

# The stand-in agent's remote control. Requests under /__corpus/ never reach the
# logged application: they set the virtual clock, tell the agent's jobs what to
# do and what to write, and first wait until every logged request has written its
# access line, so the driver's next step can never overtake a log write.
class CorpusControl
  PREFIX = '/__corpus/'

  class << self
    # The instance in this process, for the server's own access log to report to.
    attr_accessor :current
  end

  # `server_access_log`: the server writes an access line of its own after
  # each response (WEBrick's), which a control request must also wait for.
  def initialize(app, agent, server_access_log: false)
    @app = app
    @agent = agent
    @lock = Mutex.new
    @idle = ConditionVariable.new
    @in_flight = 0
    @server_access_log = server_access_log
    self.class.current = self
  end

  def call(env)
    return control(env) if env['PATH_INFO'].start_with?(PREFIX)

    @lock.synchronize { @in_flight += @server_access_log ? 2 : 1 }
    begin
      status, headers, body = @app.call(env)
    rescue Exception # rubocop:disable Lint/RescueException
      done
      raise
    end
    # Rack::BodyProxy closes the inner body (CommonLogger's, which writes the
    # access line) before running this block.
    [status, headers, Rack::BodyProxy.new(body) { done }]
  end

  # The server has written its own access line for a request.
  def server_access_logged
    done
  end

  private

  def done
    @lock.synchronize do
      @in_flight -= 1
      @idle.broadcast
    end
  end

  def control(env)
    @lock.synchronize { @idle.wait(@lock) while @in_flight.positive? }
    actions = JSON.parse(env['rack.input'].read)
    results = actions.map { |action| perform(action) }
    [200, { 'Content-Type' => 'application/json' }, [JSON.generate(results)]]
  rescue StandardError => e
    [500, { 'Content-Type' => 'text/plain' }, ["#{e.class}: #{e.message}\n#{e.backtrace.join("\n")}"]]
  end

  def perform(action)
    name, arg = action.first
    case name
    when 'ping' then 'pong'
    when 'at' then VirtualClock.at(Rational(arg))
    when 'elapse' then VirtualClock.elapse(Rational(arg))
    when 'step' then VirtualClock.step(Rational(arg))
    when 'next_request_takes' then RequestDuration.next = Rational(arg)
    else @agent.perform(name, arg)
    end
    nil
  end
end

# How long the next logged request takes on the virtual clock. The handler may
# spend it where it likes (Rails spends it inside the action, so "Completed in"
# counts it); whatever is left is spent here, before the access line is written.
module RequestDuration
  @lock = Mutex.new
  @next = Rational(0)

  class << self
    def next=(seconds)
      @lock.synchronize { @next = seconds }
    end

    def spend
      seconds = @lock.synchronize do
        s = @next
        @next = Rational(0)
        s
      end
      VirtualClock.elapse(seconds) if seconds.positive?
    end
  end

  # Rack middleware that spends what the handler left of the request's duration.
  class Middleware
    def initialize(app)
      @app = app
    end

    def call(env)
      @app.call(env)
    ensure
      RequestDuration.spend
    end
  end
end

Rack::Utils.singleton_class.prepend(Module.new do
  def clock_time
    VirtualClock.mono.to_f
  end
end)

# WEBrick's own access log: its lines go to `io` but for the remote control's
# requests, which a real agent does not get; `last` reports each request's last
# line written, so the next control request waits for it.
class ServerAccessLog
  def initialize(io, last:)
    @io = io
    @last = last
  end

  def <<(line)
    return self if line.include?(CorpusControl::PREFIX)

    @io << line
    CorpusControl.current.server_access_logged if @last
    self
  end
end

# Where a server's own output goes (Puma's and WEBrick's boot banner, Sinatra's
# dump_errors through rack.errors) when the case sends it to production.log. The
# server listens on a port the system chose and runs under its real pid; the
# banner names both, so this writer shows them as port 3000 and the pinned pid.
# These two substitutions are the only text the corpus changes after a library
# wrote it.
class BannerWriter
  def initialize(io)
    @io = io
    @io.sync = true
  end

  def write(*parts)
    text = parts.join
    text = text.gsub(/(Listening on \S+:|port=)\d+/) { "#{Regexp.last_match(1)}3000" }
               .gsub(/(PID: |pid=)#{REAL_PID}\b/) { "#{Regexp.last_match(1)}#{VirtualClock.pid}" }
    @io.write(text)
  end

  def <<(text)
    write(text)
    self
  end

  def print(*parts)
    write(*parts)
    nil
  end

  def puts(*parts)
    lines = parts.flatten.map(&:to_s)
    lines = [''] if lines.empty?
    write(lines.map { |l| l.end_with?("\n") ? l : "#{l}\n" }.join)
    nil
  end

  def flush
    self
  end

  def sync
    true
  end

  def sync=(_value); end

  def tty?
    false
  end
  alias isatty tty?
end
