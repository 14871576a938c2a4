# frozen_string_literal: true

# Starts one stand-in backup-agent process for the corpus generator: the Sinatra
# agent (or the Rails one) behind Rack::CommonLogger, on Puma or WEBrick, on
# 127.0.0.1 and port 0 (the system chooses). Everything comes from the environment:
#
#   CORPUS_LOG     production.log to append to
#   CORPUS_PORT_FILE  where to write the port the system chose (127.0.0.1)
#   CORPUS_PID     the pid the logs show
#   CORPUS_NOW     the virtual wall clock at start (epoch seconds, decimal)
#   CORPUS_APP     sinatra | rails | rails-access (Rails with Rack::CommonLogger too)
#   CORPUS_SERVER  puma | webrick
#   CORPUS_OUTPUT  log (the server's own output goes to production.log) | a path
#   CORPUS_LOGGER  default | old-format | datetime-format | progname
#   CORPUS_RACK    current | 1.5 (the access line as Rack 1.5 wrote it)
#   CORPUS_WEBRICK_ACCESS_LOG  1: WEBrick writes its own access log (as by
#                  default) to the server output, besides Rack's
#
# The agent's own files are evaluated under the paths the BOSH package would
# give them, so backtraces in the corpus do not name the checkout they ran from;
# the clock and the remote control, which a real agent does not have, under
# vendor/corpus, which Rails' backtrace cleaner leaves out of the application's
# trace as it does any vendored code.
AGENT_PACKAGE = '/var/vcap/packages/backup-agent'

def load_agent_file(name, under: 'lib/backup_agent')
  path = File.join(__dir__, 'agent', name)
  eval(File.read(path), TOPLEVEL_BINDING, File.join(AGENT_PACKAGE, under, name), 1) # rubocop:disable Security/Eval
end

# An agent whose generator has gone (killed, timed out) stops by itself.
generator = Process.ppid
Thread.new do
  loop do
    sleep 0.5
    exit!(1) if Process.ppid != generator
  end
end

load_agent_file('virtual_clock.rb', under: 'vendor/corpus')
load_agent_file('control.rb', under: 'vendor/corpus')
load_agent_file('log_formats.rb')
load_agent_file('jobs.rb')

log_path = ENV.fetch('CORPUS_LOG')
port_file = ENV.fetch('CORPUS_PORT_FILE')
# Written whole (renamed into place), so the driver never reads half a number.
report_port = lambda do |port|
  File.write("#{port_file}.tmp", port.to_s)
  File.rename("#{port_file}.tmp", port_file)
end
output = ENV.fetch('CORPUS_OUTPUT', 'log')
server_output = BannerWriter.new(File.open(output == 'log' ? log_path : output, 'a'))
$stdout = server_output
$stderr = server_output

def agent_logger(path)
  case ENV.fetch('CORPUS_LOGGER', 'default')
  when 'default' then Logger.new(path)
  when 'old-format'
    Logger.new(path).tap do |l|
      l.formatter = OldFormats::LoggerFormatter.new
      l.formatter.datetime_format = '%Y-%m-%dT%H:%M:%S.%6N'
    end
  when 'datetime-format' then Logger.new(path).tap { |l| l.datetime_format = '%Y-%m-%d %H:%M:%S' }
  when 'progname' then Logger.new(path, progname: 'backup-agent')
  else raise ArgumentError, "unknown CORPUS_LOGGER #{ENV['CORPUS_LOGGER']}"
  end
end

def access_logger_class
  ENV.fetch('CORPUS_RACK', 'current') == '1.5' ? OldFormats::Rack15CommonLogger : Rack::CommonLogger
end

app_kind = ENV.fetch('CORPUS_APP', 'sinatra')
if app_kind == 'sinatra'
  load_agent_file('backup_agent.rb')
  logger = agent_logger(log_path)
  state = BackupAgent::State.new(logger)
  BackupAgent::App.set :agent, state
  access_logger = access_logger_class
  app = Rack::Builder.new do
    use CorpusControl, state, server_access_log: ENV['CORPUS_WEBRICK_ACCESS_LOG'] == '1'
    use access_logger, logger
    use RequestDuration::Middleware
    use Rack::Auth::Basic, 'backup-agent' do |user, password|
      user == 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT' || (user == 'admin' && password == 'secret')
    end
    run BackupAgent::App
  end.to_app
else
  load_agent_file('rails_agent.rb')
  app = RailsAgent.build(log_path, with_access_log: app_kind == 'rails-access')
end

case ENV.fetch('CORPUS_SERVER', 'puma')
when 'puma'
  require 'puma'
  require 'rack/handler/puma'
  require 'puma/events'
  require 'puma/launcher'
  conf = Rack::Handler::Puma.config(app, Host: '127.0.0.1', Port: 0, Threads: '0:5')
  launcher = Puma::Launcher.new(conf, events: Puma::Events.new(server_output, server_output))
  launcher.events.on_booted { report_port.call(launcher.connected_ports.first) }
  launcher.run
when 'webrick'
  require 'rack/handler/webrick'
  # WEBrick's own access log is off unless asked for: the agent logs requests
  # with CommonLogger. On, it is WEBrick's default: common and referer lines.
  access_log = if ENV['CORPUS_WEBRICK_ACCESS_LOG'] == '1'
                 [[ServerAccessLog.new(server_output, last: false), WEBrick::AccessLog::COMMON_LOG_FORMAT],
                  [ServerAccessLog.new(server_output, last: true), WEBrick::AccessLog::REFERER_LOG_FORMAT]]
               else
                 []
               end
  Rack::Handler::WEBrick.run(app, Host: '127.0.0.1', Port: 0,
                                  Logger: WEBrick::Log.new(server_output), AccessLog: access_log) do |server|
    # Bound already; requests wait in the backlog until start has logged its line.
    report_port.call(server.config[:Port])
  end
else
  raise ArgumentError, "unknown CORPUS_SERVER #{ENV['CORPUS_SERVER']}"
end
