# frozen_string_literal: true

require 'logger'

# The jobs of the stand-in a9s backup-agent, whichever web framework serves it:
# a backup or a restore, one restore at a time, and one Logger on
# production.log. The work a job does (downloading, restoring, uploading) is not
# done; the driver tells the job what it has got to and the job writes that to
# the log as the real agent would.
module BackupAgent
  class Error < StandardError; end
  class BackupStoreError < Error; end
  class RestoreError < Error; end

  Job = Struct.new(:id, :kind, :backup_id, :state)

  # What the agent is doing: the jobs it knows, and the faults the driver has
  # asked it to have.
  class State
    attr_reader :logger, :jobs
    attr_accessor :next_id, :order_status, :restore_status, :announce, :raise_in_restore

    def initialize(logger)
      @logger = logger
      @jobs = {}
      @next_id = 1
      @lock = Mutex.new
    end

    def synchronize(&block)
      @lock.synchronize(&block)
    end

    # The newest job in one of `states`, of `kind` if given.
    def newest(states, kind = nil)
      jobs.values.reverse.find { |j| states.include?(j.state) && (kind.nil? || j.kind == kind) }
    end

    # An accepted job waits in the queue until a worker begins it.
    def start(kind, backup_id)
      job = Job.new(next_id, kind, backup_id, :queued)
      self.next_id += 1
      jobs[job.id] = job
    end

    # A new job, or the restore in its way: one restore at a time, and a
    # backup never waits.
    def accept(kind, backup_id)
      active = kind == :restore && newest(%i[queued running], :restore)
      active ? [nil, active] : [start(kind, backup_id), nil]
    end

    # What a poll of orders answers: the running job, if any.
    def order
      job = newest([:running])
      job ? { job: "#{job.kind} #{job.id}" } : { idle: true }
    end

    # Control actions the driver sends (see CorpusControl#perform).
    def perform(name, arg)
      synchronize do
        case name
        when 'log' then log(*arg)
        when 'begin' then jobs.fetch(arg).state = :running
        when 'running' then start(arg['kind'].to_sym, arg['backup_id']).state = :running
        when 'finish' then jobs.fetch(arg).state = :done
        when 'fail' then fail_job(jobs.fetch(arg['job']), arg['message'])
        when 'next_id' then self.next_id = arg
        when 'order_status' then self.order_status = arg
        when 'restore_status' then self.restore_status = arg
        when 'announce' then self.announce = arg
        when 'raise_in_restore' then self.raise_in_restore = arg
        else raise ArgumentError, "unknown control action #{name}"
        end
      end
    end

    def log(severity, message, progname = nil)
      logger.add(Logger::Severity.const_get(severity.upcase), message, progname)
    end

    # A job that fails does so in its own thread, as the agent's workers do, so
    # the backtrace is the job's and not the control request's.
    def fail_job(job, message)
      Thread.new { Worker.new(job, logger).run_into(message) }.join
    end
  end

  # The part of a restore or backup that can go wrong: it raises from a few
  # frames down and the job logs the exception, backtrace and all.
  class Worker
    def initialize(job, logger)
      @job = job
      @logger = logger
    end

    def run_into(message)
      @message = message
      @job.kind == :backup ? store : fetch
    rescue Error => e
      @job.state = :failed
      @logger.error(e)
    end

    private

    def fetch
      download_from_store
    end

    def store
      upload_to_store
    end

    def download_from_store
      raise BackupStoreError, @message
    end

    def upload_to_store
      raise BackupStoreError, @message
    end
  end
end
