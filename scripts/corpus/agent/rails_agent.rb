# frozen_string_literal: true

require 'logger'
require 'rails'
require 'action_controller/railtie'

# The stand-in backup-agent as a Rails 6.1 API application, logging as a
# production Rails app does: ActiveSupport's tagged logger with the request id as
# tag and Logger::Formatter lines ("Started POST ...", "Processing by ...",
# "Completed 200 OK in 5ms"), and a FATAL ActionController::RoutingError for a
# route it does not have. The request ids come from the driver's X-Request-Id.
module RailsAgent
  class << self
    # The agent's jobs (BackupAgent::State), logging through Rails' logger.
    attr_accessor :state
  end

  # The agent's API.
  class JobsController < ActionController::API
    include ActionController::HttpAuthentication::Basic::ControllerMethods
    before_action { authenticate_or_request_with_http_basic('backup-agent') { |_user, password| password == 'secret' } }
    # The request's virtual duration is spent inside the action, where Rails'
    # "Completed in" counts it, whether the action returns or raises.
    around_action :spend_request_duration

    def restore
      accept(:restore)
    end

    def backup
      accept(:backup)
    end

    def order
      render json: agent.synchronize { agent.order }
    end

    private

    def spend_request_duration
      yield
    ensure
      RequestDuration.spend
    end

    def agent
      RailsAgent.state
    end

    def accept(kind)
      raise BackupAgent::RestoreError, agent.raise_in_restore if kind == :restore && agent.raise_in_restore

      _job, active = agent.synchronize { agent.accept(kind, params[:backup_id]) }
      return render(json: { error: "restore #{active.id} is running" }, status: :conflict) if active

      render json: { status: 'accepted' }
    end
  end

  # Builds the Rails application logging to `log_path`; with_access_log puts
  # Rack::CommonLogger in front of it, so each request is logged twice: once by
  # Rack, once by Rails.
  def self.build(log_path, with_access_log:)
    app = Class.new(Rails::Application) do
      # Where the BOSH package puts the agent, so that Rails' backtrace cleaner
      # shows the agent's frames as lib/backup_agent/...
      config.root = AGENT_PACKAGE
      config.eager_load = false
      config.api_only = true
      config.consider_all_requests_local = false
      config.secret_key_base = 'corpus'
      config.log_level = :info
      config.log_tags = [:request_id]
      logger = ActiveSupport::Logger.new(log_path)
      logger.formatter = ::Logger::Formatter.new
      config.logger = ActiveSupport::TaggedLogging.new(logger)
      RailsAgent.state = BackupAgent::State.new(config.logger)
      config.middleware.insert_before 0, CorpusControl, RailsAgent.state
      if with_access_log
        config.middleware.insert_after CorpusControl, Rack::CommonLogger, logger
        config.middleware.insert_after Rack::CommonLogger, RequestDuration::Middleware
      else
        config.middleware.insert_after CorpusControl, RequestDuration::Middleware
      end
    end
    Object.const_set(:BackupAgentRails, app)
    app.initialize!
    app.routes.draw do
      post '/v1/restore', to: 'rails_agent/jobs#restore'
      post '/v1/backup', to: 'rails_agent/jobs#backup'
      post '/v1/order', to: 'rails_agent/jobs#order'
    end
    app
  end
end

# Rails measures "Completed in", "Views:" and allocations on clocks of its own;
# pin them to the virtual one (allocations: a hundred per virtual millisecond).
Benchmark.singleton_class.prepend(Module.new do
  def realtime
    start = VirtualClock.mono
    yield
    (VirtualClock.mono - start).to_f
  end
end)

ActiveSupport::Notifications::Event.prepend(Module.new do
  private

  def now
    VirtualClock.mono.to_f
  end

  def now_allocations
    (VirtualClock.mono * 100_000).to_i
  end
end)
