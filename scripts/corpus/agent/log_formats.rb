# frozen_string_literal: true

require 'logger'
require 'rack'

# Log formats of older library versions than Debian ships, rebuilt from their
# released source so the corpus can hold logs of agents deployed years ago.
module OldFormats
  # Logger::Formatter as Ruby's logger shipped it up to logger 1.4: the Format
  # constant had no space between time and pid, the default datetime format
  # carried a trailing space instead. Output is the same as today's with the
  # default datetime format; an application that set its own datetime_format
  # (without that trailing space) got "[2018-11-20T12:13:00.939338#31554]".
  # (Those versions read the pid from $$, which cannot be pinned; this one asks
  # Process.pid like today's.)
  class LoggerFormatter < Logger::Formatter
    OLD_FORMAT = "%s, [%s#%d] %5s -- %s: %s\n"

    def call(severity, time, progname, msg)
      format(OLD_FORMAT, severity[0..0], format_datetime(time), Process.pid, severity, progname, msg2str(msg))
    end

    private

    def format_datetime(time)
      time.strftime(@datetime_format || '%Y-%m-%dT%H:%M:%S.%6N ')
    end
  end

  # Rack::CommonLogger's log line as Rack 1.5 wrote it: the time without a zone
  # and with a space before the hour ("[20/Nov/2018 12:12:30]"), the protocol
  # from HTTP_VERSION, no SCRIPT_NAME, and the duration from Time.now.
  class Rack15CommonLogger < Rack::CommonLogger
    FORMAT15 = %{%s - %s [%s] "%s %s%s %s" %d %s %0.4f\n}

    def call(env)
      began_at = Time.now
      status, header, body = @app.call(env)
      header = Rack::Utils::HeaderHash.new(header)
      body = Rack::BodyProxy.new(body) { log15(env, status, header, began_at) }
      [status, header, body]
    end

    private

    def log15(env, status, header, began_at)
      now = Time.now
      length = extract_content_length(header)
      line = format(FORMAT15,
                    env['HTTP_X_FORWARDED_FOR'] || env['REMOTE_ADDR'] || '-',
                    env['REMOTE_USER'] || '-',
                    now.strftime('%d/%b/%Y %H:%M:%S'),
                    env['REQUEST_METHOD'],
                    env['PATH_INFO'],
                    env['QUERY_STRING'].empty? ? '' : "?#{env['QUERY_STRING']}",
                    env['HTTP_VERSION'],
                    status.to_s[0..3],
                    length,
                    now - began_at)
      # Rack 1.5 called logger.write; a stdlib Logger takes the same bytes by <<.
      (@logger || env['rack.errors']) << line
    end
  end
end
