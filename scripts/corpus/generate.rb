# frozen_string_literal: true

# Regenerates the corpus of backup-agent logs: every case in cases/ runs its
# stand-in agent processes on loopback and leaves the production.log they wrote
# as <out>/<case>.log. Cases run in parallel; the output does not depend on it.
#
#   ruby scripts/corpus/generate.rb [--jobs N] [--only case,case] [OUT_DIR]
#
# OUT_DIR defaults to fixtures/corpus. The stories (<case>.story.json) and the
# README in fixtures/corpus are written by hand and left alone.
require 'fileutils'
require 'optparse'
require 'tmpdir'
require_relative 'driver'

module Corpus
  CASES = {}

  def self.define(name, &script)
    raise "case #{name} defined twice" if CASES.key?(name)

    CASES[name] = script
  end

  def self.run_case(name, out_dir)
    Dir.mktmpdir("corpus-#{name}-") do |work|
      scenario = Scenario.new(name, work)
      begin
        CASES.fetch(name).call(scenario)
      ensure
        scenario.stop
      end
      FileUtils.cp(scenario.log, File.join(out_dir, "#{name}.log"))
    end
  end
end

Dir[File.join(__dir__, 'cases', '*.rb')].sort.each { |f| require f }

jobs = 4
only = nil
OptionParser.new do |o|
  o.banner = 'usage: ruby scripts/corpus/generate.rb [--jobs N] [--only a,b] [OUT_DIR]'
  o.on('--jobs N', Integer, 'cases run at once (default 4)') { |n| jobs = n }
  o.on('--only LIST', Array, 'run only these cases') { |l| only = l }
end.parse!
out_dir = File.expand_path(ARGV.first || File.join(__dir__, '..', '..', 'fixtures', 'corpus'))
FileUtils.mkdir_p(out_dir)

names = only || Corpus::CASES.keys.sort
unknown = names - Corpus::CASES.keys
abort "unknown case(s): #{unknown.join(', ')}" unless unknown.empty?

queue = Queue.new
names.each { |n| queue << n }
failures = Queue.new
workers = Array.new([jobs, names.size].min) do
  Thread.new do
    while (name = (queue.pop(true) rescue nil))
      begin
        Corpus.run_case(name, out_dir)
      rescue StandardError => e
        failures << "#{name}: #{e.class}: #{e.message}"
      end
    end
  end
end
workers.each(&:join)
unless failures.empty?
  warn failures.size.times.map { failures.pop }.sort.join("\n")
  exit 1
end
puts "wrote #{names.size} case(s) to #{out_dir}"
