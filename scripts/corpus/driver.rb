# frozen_string_literal: true

require 'json'
require 'net/http'
require 'time'
require 'fileutils'

module Corpus
  SERVE = File.join(__dir__, 'serve.rb')
  PASSWORD = 'secret'

  # One stand-in backup-agent process: started with `ruby serve.rb`, reached over
  # loopback on the port it got from the system, stopped with a real SIGKILL.
  class AgentProcess
    attr_reader :port, :os_pid, :app

    def initialize(log:, work_dir:, pid:, now:, app: 'sinatra', server: 'puma', output: :aside,
                   logger: 'default', rack: 'current', tz: 'UTC', webrick_access_log: false)
      @app = app
      aside = File.join(work_dir, "agent-#{pid}.out")
      @port_file = File.join(work_dir, "agent-#{pid}.port")
      env = {
        'CORPUS_LOG' => log, 'CORPUS_PORT_FILE' => @port_file, 'CORPUS_PID' => pid.to_s,
        'CORPUS_NOW' => Corpus.epoch(now), 'CORPUS_APP' => app, 'CORPUS_SERVER' => server,
        'CORPUS_OUTPUT' => output == :log ? 'log' : aside, 'CORPUS_LOGGER' => logger,
        'CORPUS_RACK' => rack, 'CORPUS_WEBRICK_ACCESS_LOG' => webrick_access_log ? '1' : '0', 'TZ' => tz, 'RACK_ENV' => 'production', 'RAILS_ENV' => 'production'
      }
      @crash = File.join(work_dir, "agent-#{pid}.crash")
      @aside = aside
      @os_pid = Process.spawn(env, RbConfig.ruby, SERVE, out: [@crash, 'a'], err: [@crash, 'a'],
                                                         chdir: work_dir, unsetenv_others: false)
      wait_until_ready
    end

    # Sends control actions (see CorpusControl) and returns once they are done
    # and every earlier request has written its log line.
    def control(*actions)
      response = http { |h| h.post('/__corpus/', JSON.generate(actions), 'Content-Type' => 'application/json') }
      raise "control #{actions.inspect} failed: #{response.body}" unless response.code == '200'

      response
    end

    def request(method, path, from:, user:, password: PASSWORD, form: nil, headers: {})
      req = Net::HTTP.const_get(method.capitalize).new(path)
      req.basic_auth(user, password) if user
      req['X-Forwarded-For'] = from if from
      req['Connection'] = 'close'
      headers.each { |k, v| req[k] = v }
      req.set_form_data(form) if form
      http { |h| h.request(req) }
    end

    def kill
      Process.kill(:KILL, @os_pid)
      Process.wait(@os_pid)
    end

    private

    def http(&block)
      Net::HTTP.start('127.0.0.1', @port, open_timeout: 5, read_timeout: 30, &block)
    end

    def wait_until_ready
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 30
      loop do
        return control({ 'ping' => true }) if listening?
        raise "agent did not start: #{startup_output}" if Process.waitpid(@os_pid, Process::WNOHANG)
        raise "agent did not listen within 30 s: #{startup_output}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.02
      end
    end

    def startup_output
      [@crash, @aside].select { |f| File.exist?(f) }.map { |f| File.read(f) }.join
    end

    # The agent writes its port once the server is bound.
    def listening?
      text = File.exist?(@port_file) ? File.read(@port_file) : ''
      @port = Integer(text) unless text.empty?
      !text.empty?
    end
  end

  # Epoch seconds of an ISO 8601 time, exactly, as a fraction ("n/d").
  def self.epoch(iso)
    t = Time.iso8601(iso)
    r = t.to_r
    "#{r.numerator}/#{r.denominator}"
  end

  # `iso` plus `seconds` (a decimal string), as ISO 8601 UTC with microseconds.
  def self.plus(iso, seconds)
    (Time.iso8601(iso) + Rational(seconds.to_s)).utc.iso8601(6)
  end

  # A case: a script of what happens to the agent, run against real processes.
  # Times are ISO 8601 with a zone; the driver moves the agent's clock to each
  # one before the request or record it belongs to.
  class Scenario
    # The addresses of the documentation's sample: the one that asks for the
    # restore, and the one that polls orders.
    MANAGER = '172.28.19.56'
    POLLER = '172.28.19.51'
    USER = 'oy6Xh45byt4IMhMmlLSV9s_WCdKx9-gT'

    attr_reader :log

    def initialize(name, work_dir)
      @name = name
      @work_dir = work_dir
      @log = File.join(work_dir, 'production.log')
      @agents = []
    end

    # The log exists before the agent starts (a tail of a long-lived log), so
    # Logger writes no "# Logfile created on" header.
    def existing_log
      FileUtils.touch(@log)
    end

    # Starts an agent process. After kill_agent, that is the agent restarted.
    def start_agent(at:, pid:, **options)
      @agent = AgentProcess.new(log: @log, work_dir: @work_dir, pid: pid, now: at, **options)
      @agents << @agent
      @agent
    end

    # kill -9 of the agent, once everything it was asked has reached the log.
    def kill_agent
      @agent.control({ 'ping' => true })
      @agent.kill
      @agents.delete(@agent)
      @agent = nil
    end

    # A request: the clock is at `at` when it arrives and moves by `took` seconds
    # while it is handled; the access line is written at the end.
    def request(method, path, at:, took:, from: MANAGER, user: USER, headers: {}, **options)
      @agent.control({ 'at' => Corpus.epoch(at) }, { 'next_request_takes' => took.to_s })
      headers = { 'X-Request-Id' => next_request_id }.merge(headers) if @agent.app.start_with?('rails')
      @agent.request(method, path, from: from, user: user, headers: headers, **options)
    end

    # Request ids as Rails makes them (UUIDs), from a generator seeded by the
    # case's name so they are the same on every run.
    def next_request_id
      @ids ||= Random.new(@name.bytes.sum)
      b = @ids.bytes(16).unpack('C*')
      b[6] = (b[6] & 0x0f) | 0x40
      b[8] = (b[8] & 0x3f) | 0x80
      format('%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x', *b)
    end

    def restore(at:, took: '0.0023', backup_id: nil, **options)
      request('post', '/v1/restore', at: at, took: took, form: backup_id ? { 'backup_id' => backup_id } : {}, **options)
    end

    def backup(at:, took: '0.0031', **options)
      request('post', '/v1/backup', at: at, took: took, form: {}, **options)
    end

    def poll(at:, took: '0.7541', **options)
      request('post', '/v1/order', at: at, took: took, from: POLLER, **options)
    end

    # A Logger record the agent's job writes.
    def record(at:, severity: 'info', message:, progname: nil)
      @agent.control({ 'at' => Corpus.epoch(at) }, { 'log' => [severity, message, progname].compact })
    end

    # Sets agent state or faults (see BackupAgent::State#perform), at a time.
    def agent(at: nil, **actions)
      steps = []
      steps << { 'at' => Corpus.epoch(at) } if at
      actions.each { |k, v| steps << { k.to_s => v } }
      @agent.control(*steps)
    end

    def finish(job, at:, message: 'success')
      @agent.control({ 'at' => Corpus.epoch(at) }, { 'log' => ['info', message] }, { 'finish' => job })
    end

    def fail(job, at:, message:)
      @agent.control({ 'at' => Corpus.epoch(at) }, { 'fail' => { 'job' => job, 'message' => message } })
    end

    # A restore as most cases have it: asked for at `start`, begun 0.4 s later,
    # polled at +0.6 s and +14.9 s; `steps` maps offsets (seconds after start)
    # to what happens then: a message (an INFO record), [severity, message], or
    # a block given the scenario and the time. With `success` (an offset) it
    # logs success then and is polled once more, 0.560662 s later.
    def typical_restore(start:, id: 41, backup_id: nil, took: '0.0023', steps: {}, success: nil, **request)
      restore(at: start, took: took, backup_id: backup_id, **request)
      agent(at: Corpus.plus(start, '0.4'), begin: id)
      poll(at: Corpus.plus(start, '0.6'))
      timeline = steps.to_a + [['14.9', ->(s, at) { s.poll(at: at, took: '0.6944') }]]
      if success
        timeline << [success, ->(s, at) { s.finish(id, at: at) }]
        timeline << [(Rational(success) + Rational('0.560662')).to_s, ->(s, at) { s.poll(at: at, took: '0.7154') }]
      end
      timeline.sort_by { |offset, _| Rational(offset) }.each do |offset, step|
        at = Corpus.plus(start, offset)
        case step
        when String then record(at: at, message: step)
        when Array then record(at: at, severity: step[0], message: step[1])
        else step.call(self, at)
        end
      end
    end

    # A backup asked for at `start`: its a9s backup id is named after the start
    # in epoch milliseconds, as a9s-pg's are. It is begun 0.4 s later and polled,
    # logs "Creating backup <id>", then "backup <id> uploaded" at `uploaded`
    # (an offset) and success 0.3 s after. Returns the backup id.
    def typical_backup(start:, id:, uploaded: '55')
      backup_id = "a9s-pg-#{(Time.iso8601(start).to_r * 1000).floor}"
      backup(at: start)
      agent(at: Corpus.plus(start, '0.4'), begin: id)
      poll(at: Corpus.plus(start, '0.6'), took: '0.6011')
      record(at: Corpus.plus(start, '2.112233'), message: "Creating backup #{backup_id}")
      record(at: Corpus.plus(start, uploaded), message: "backup #{backup_id} uploaded")
      finish(id, at: Corpus.plus(start, Rational(uploaded) + Rational('0.3')))
      poll(at: Corpus.plus(start, Rational(uploaded) + 2), took: '0.5530')
      backup_id
    end

    def step_clock(seconds)
      @agent.control({ 'step' => seconds.to_s })
    end

    def stop
      @agents.each do |a|
        a.control({ 'ping' => true })
        a.kill
      end
      @agents.clear
    end
  end
end
