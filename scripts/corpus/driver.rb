# frozen_string_literal: true

require 'json'
require 'net/http'
require 'socket'
require 'time'
require 'fileutils'

module Corpus
  SERVE = File.join(__dir__, 'serve.rb')
  PASSWORD = 'secret'

  # One stand-in backup-agent process: started with `ruby serve.rb`, reached over
  # loopback on a free port, stopped with a real SIGKILL.
  class AgentProcess
    attr_reader :port, :os_pid

    def initialize(log:, work_dir:, pid:, now:, app: 'sinatra', server: 'puma', output: :aside,
                   logger: 'default', rack: 'current', tz: 'UTC')
      @port = free_port
      aside = File.join(work_dir, "agent-#{pid}.out")
      env = {
        'CORPUS_LOG' => log, 'CORPUS_PORT' => @port.to_s, 'CORPUS_PID' => pid.to_s,
        'CORPUS_NOW' => Corpus.epoch(now), 'CORPUS_APP' => app, 'CORPUS_SERVER' => server,
        'CORPUS_OUTPUT' => output == :log ? 'log' : aside, 'CORPUS_LOGGER' => logger,
        'CORPUS_RACK' => rack, 'TZ' => tz, 'RACK_ENV' => 'production', 'RAILS_ENV' => 'production'
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

    def free_port
      server = TCPServer.new('127.0.0.1', 0)
      server.addr[1]
    ensure
      server&.close
    end

    def wait_until_ready
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 30
      loop do
        return control({ 'ping' => true }) if port_open?
        raise "agent did not start: #{startup_output}" if Process.waitpid(@os_pid, Process::WNOHANG)
        raise "agent did not listen within 30 s: #{startup_output}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.02
      end
    end

    def startup_output
      [@crash, @aside].select { |f| File.exist?(f) }.map { |f| File.read(f) }.join
    end

    def port_open?
      TCPSocket.new('127.0.0.1', @port).close
      true
    rescue SystemCallError
      false
    end
  end

  # Epoch seconds of an ISO 8601 time, as an exact decimal string.
  def self.epoch(iso)
    t = Time.iso8601(iso)
    r = t.to_r
    "#{r.numerator}/#{r.denominator}"
  end

  # A case: a script of what happens to the agent, run against real processes.
  # Times are ISO 8601 with a zone; the driver moves the agent's clock to each
  # one before the request or record it belongs to.
  class Scenario
    MANAGER = '172.28.19.56' # the Backup Manager, which asks for restores and backups
    POLLER = '172.28.19.51'  # the service broker's poller of orders
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

    # Starts an agent process; a later call is a restart (kill the old one first).
    def start_agent(at:, pid:, **options)
      @agent = AgentProcess.new(log: @log, work_dir: @work_dir, pid: pid, now: at, **options)
      @agents << @agent
      @agent
    end

    def kill_agent
      @agent.control({ 'ping' => true })
      @agent.kill
      @agents.delete(@agent)
      @agent = nil
    end

    # A request: the clock is at `at` when it arrives and moves by `took` seconds
    # while it is handled; the access line is written at the end.
    def request(method, path, at:, took:, from: MANAGER, user: USER, **options)
      @agent.control({ 'at' => Corpus.epoch(at) }, { 'next_request_takes' => took.to_s })
      @agent.request(method, path, from: from, user: user, **options)
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
