# frozen_string_literal: true

# The clock and the pid of a stand-in backup-agent process, pinned so that a
# corpus log is the same bytes on every run.
#
# The wall clock is what Time.now answers (Logger timestamps, CommonLogger's
# access time, Rails' "Started ... at", Sinatra's dump_errors, WEBrick's banner).
# The monotonic clock is what request durations are measured with (Rack's
# Utils.clock_time, ActiveSupport's Event#now, Benchmark.realtime). Both start at
# CORPUS_NOW and move only when the driver says so: "at" moves the wall clock to a
# point in time and the monotonic one by the same amount; "elapse" moves both;
# "step" moves the wall clock alone, as an NTP correction does.
module VirtualClock
  @lock = Mutex.new
  @wall = Rational(ENV.fetch('CORPUS_NOW'))
  @mono = Rational(1000)
  @pid = Integer(ENV.fetch('CORPUS_PID'))

  class << self
    attr_reader :pid

    def wall
      @lock.synchronize { @wall }
    end

    def mono
      @lock.synchronize { @mono }
    end

    # Time.at keeps a Rational exactly, so microseconds come out as written.
    def time(zone = nil)
      zone ? Time.at(wall, in: zone) : Time.at(wall)
    end

    def at(epoch)
      @lock.synchronize do
        @mono += epoch - @wall if epoch > @wall
        @wall = epoch
      end
    end

    def elapse(seconds)
      @lock.synchronize do
        @wall += seconds
        @mono += seconds
      end
    end

    def step(seconds)
      @lock.synchronize { @wall += seconds }
    end
  end
end

Time.singleton_class.prepend(Module.new do
  def now(in: nil)
    VirtualClock.time(binding.local_variable_get(:in))
  end
end)

REAL_PID = Process.pid
Process.singleton_class.prepend(Module.new do
  def pid
    VirtualClock.pid
  end
end)
