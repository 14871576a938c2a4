# Renders one template of a BOSH job the way the director does (bosh-director's
# JobTemplateRenderer and DeploymentPlan::Job#bind_properties, bosh-common's
# EvaluationContext and PropertyHelper): ERB with the '-' trim mode, evaluated
# against the properties the job's spec declares (an operator's value, else the
# spec's default, else unset), with `p`, `if_p` and `spec`.
#
# - `p` on an unset property without a default raises, as the director's
#   UnknownProperty does, and the error is reported in the director's words.
# - An operator's value that is not a hash where a declared property's name needs
#   one (`restore_watcher: {http: "x"}` for restore_watcher.http.port) is refused
#   before rendering, as the director's InvalidPropertyType refuses it.
# - TEMPLATE `monit` renders the job's monit file, which the director renders
#   with the same context as the templates.
# - `spec.job` is the instance group (BOSH v1's name for it): spec.job.name is
#   the instance group's name, spec.job.templates lists its jobs; spec.release
#   is the job's release.
#
#   ruby render.rb JOB_DIR TEMPLATE [--properties FILE] [--spec FILE] [--yaml-to-json]
#
# --properties  YAML or JSON: the job's `properties:` block from a manifest
# --spec        YAML or JSON: instance spec overrides (address, index, ...)
# --yaml-to-json  parse the rendered text as YAML and print it as JSON
#
# Exit status: 0 with the rendered text on stdout; 1 with the error on stderr.
require 'erb'
require 'json'
require 'ostruct'
require 'yaml'

def dig_dotted(hash, name)
  name.split('.').reduce(hash) do |node, key|
    return nil unless node.is_a?(Hash) && node.key?(key)

    node[key]
  end
end

# The director's error for `p` on a property that has neither value nor default.
class UnknownProperty < StandardError
  def initialize(names)
    super("Can't find property '#{names.inspect}'")
  end
end

# The director's error for an operator's value that is not a hash where the
# dotted name of a declared property needs one.
class InvalidPropertyType < StandardError; end

# `if_p`'s result, so that `if_p(...) { }.else { }` works as in BOSH.
class ElseBlock
  def initialize(taken)
    @taken = taken
  end

  def else
    yield unless @taken
  end
end

# The binding templates are evaluated in.
class EvaluationContext
  attr_reader :spec

  def initialize(properties, spec)
    @properties = properties
    @spec = to_struct(spec)
  end

  def p(*args)
    names = Array(args[0])
    names.each do |name|
      value = lookup(name)
      return value unless value.nil?
    end
    return args[1] if args.length == 2

    raise UnknownProperty, names
  end

  def if_p(*names)
    values = names.map { |name| lookup(name) }
    return ElseBlock.new(false) if values.any?(&:nil?)

    yield(*values)
    ElseBlock.new(true)
  end

  def get_binding
    binding
  end

  private

  def lookup(name)
    dig_dotted(@properties, name)
  end

  def to_struct(value)
    case value
    when Hash then OpenStruct.new(value.transform_values { |v| to_struct(v) })
    when Array then value.map { |v| to_struct(v) }
    else value
    end
  end
end

def set_dotted(hash, name, value)
  *parents, leaf = name.split('.')
  node = parents.reduce(hash) { |n, key| n[key] ||= {} }
  node[leaf] = value
end

# PropertyHelper#validate_properties_format: every key of a declared name but
# the last must find a hash (or nothing) in the operator's properties.
def validate_properties_format(operator, name)
  node = operator
  name.split('.').each do |key|
    unless node.is_a?(Hash)
      raise InvalidPropertyType, "Property '#{name}' expects a hash, but received '#{node.class}'"
    end
    node = node[key]
    break if node.nil?
  end
end

# Only declared properties reach a template; an operator's value wins over the
# default, and a property with neither stays unset.
def effective_properties(job_spec, operator)
  (job_spec['properties'] || {}).each_with_object({}) do |(name, definition), result|
    validate_properties_format(operator, name)
    value = dig_dotted(operator, name)
    value = (definition || {})['default'] if value.nil?
    set_dotted(result, name, value) unless value.nil?
  end
end

def load_data(path)
  path.nil? ? {} : (YAML.safe_load(File.read(path)) || {})
end

def option(args, flag)
  index = args.index(flag)
  index.nil? ? nil : args.fetch(index + 1)
end

job_dir, template_name = ARGV
if job_dir.nil? || template_name.nil?
  warn 'usage: ruby render.rb JOB_DIR TEMPLATE [--properties FILE] [--spec FILE] [--yaml-to-json]'
  exit 64
end

job_spec = YAML.safe_load(File.read(File.join(job_dir, 'spec')))
spec = {
  'name' => 'pg',
  'id' => 'b8f6c6a3-5b2e-4c1e-9f0a-3d1c2e4f5a6b',
  'index' => 0,
  'az' => 'z1',
  'bootstrap' => true,
  'deployment' => 'a9s-pg',
  'address' => '10.0.0.10',
  'ip' => '10.0.0.10',
  'networks' => { 'default' => { 'ip' => '10.0.0.10' } },
}.merge(load_data(option(ARGV, '--spec')))
spec['job'] ||= {
  'name' => spec['name'],
  'templates' => [{ 'name' => job_spec['name'], 'version' => 'dev' }],
}
spec['release'] ||= { 'name' => 'restore-watcher', 'version' => 'dev' }

begin
  properties = effective_properties(job_spec, load_data(option(ARGV, '--properties')))
rescue InvalidPropertyType => e
  warn e.message
  exit 1
end

source = template_name == 'monit' ? File.join(job_dir, 'monit') : File.join(job_dir, 'templates', template_name)
erb = ERB.new(File.read(source), trim_mode: '-')
erb.filename = template_name
begin
  rendered = erb.result(EvaluationContext.new(properties, spec).get_binding)
rescue StandardError => e
  line = e.backtrace.to_a.map { |frame| frame[/\A#{Regexp.escape(template_name)}:(\d+)/, 1] }.compact.first
  warn "Error filling in template '#{template_name}' (line #{line || '?'}: #{e.message})"
  exit 1
end

if ARGV.include?('--yaml-to-json')
  puts JSON.generate(YAML.safe_load(rendered))
else
  print rendered
end
