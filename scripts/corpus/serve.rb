# frozen_string_literal: true

# Starts one stand-in backup-agent process for the corpus generator: the Sinatra
# agent (or the Rails one) behind Rack::CommonLogger, on Puma or WEBrick, on
# 127.0.0.1 and the port the driver chose. Everything comes from the environment:
#
#   CORPUS_LOG     production.log to append to
#   CORPUS_PORT    port to listen on (127.0.0.1)
#   CORPUS_PID     the pid the logs show
#   CORPUS_NOW     the virtual wall clock at start (epoch seconds, decimal)
#   CORPUS_APP     sinatra | rails | rails-access (Rails with Rack::CommonLogger too)
#   CORPUS_SERVER  puma | webrick
#   CORPUS_OUTPUT  log (the server's own output goes to production.log) | a path
#   CORPUS_LOGGER  default | old-format | datetime-format | progname
#   CORPUS_RACK    current | 1.5 (the access line as Rack 1.5 wrote it)
#
# The agent's own files are evaluated under the paths the BOSH package would
# give them, so backtraces in the corpus do not name the checkout they ran from.
AGENT_LIB = '/var/vcap/packages/backup-agent/lib'

def load_agent_file(name)
  path = File.join(__dir__, 'agent', name)
  eval(File.read(path), TOPLEVEL_BINDING, File.join(AGENT_LIB, 'backup_agent', name), 1) # rubocop:disable Security/Eval
end

load_agent_file('virtual_clock.rb')
load_agent_file('control.rb')
load_agent_file('log_formats.rb')

log_path = ENV.fetch('CORPUS_LOG')
port = Integer(ENV.fetch('CORPUS_PORT'))
output = ENV.fetch('CORPUS_OUTPUT', 'log')
server_output = BannerWriter.new(File.open(output == 'log' ? log_path : output, 'a'), port)
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
    use CorpusControl, state
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
  conf = Rack::Handler::Puma.config(app, Host: '127.0.0.1', Port: port, Threads: '0:5')
  Puma::Launcher.new(conf, events: Puma::Events.new(server_output, server_output)).run
when 'webrick'
  require 'rack/handler/webrick'
  # WEBrick's own access log is off: the agent logs requests with CommonLogger.
  Rack::Handler::WEBrick.run(app, Host: '127.0.0.1', Port: port,
                                  Logger: WEBrick::Log.new(server_output), AccessLog: [])
else
  raise ArgumentError, "unknown CORPUS_SERVER #{ENV['CORPUS_SERVER']}"
end
