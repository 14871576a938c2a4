# frozen_string_literal: true

require 'json'
require 'sinatra/base'

# The stand-in a9s backup-agent's HTTP API as a Sinatra app (its jobs are in
# jobs.rb).
module BackupAgent
  # The HTTP API.
  class App < Sinatra::Base
    set :environment, :production
    set :show_exceptions, false
    set :raise_errors, false
    set :dump_errors, true
    set :logging, false

    def agent
      settings.agent
    end

    def json(status_code, value)
      status status_code
      content_type :json
      JSON.generate(value)
    end

    def accept(kind)
      agent.synchronize do
        halt 500 if kind == :restore && agent.restore_status == 500
        raise RestoreError, agent.raise_in_restore if kind == :restore && agent.raise_in_restore

        job, active = agent.accept(kind, params['backup_id'])
        halt json(409, error: "restore #{active.id} is running") if active
        if agent.announce
          agent.logger.info("Starting #{kind} #{job.id} backup_id=#{job.backup_id}")
        end
        json(200, status: 'accepted')
      end
    end

    post('/v1/restore') { accept(:restore) }
    post('/v1/backup') { accept(:backup) }

    post '/v1/order' do
      agent.synchronize do
        case agent.order_status
        when 500 then halt json(500, error: 'internal')
        when 404 then halt json(404, error: 'no such order')
        end
        json(200, agent.order)
      end
    end

    get '/v1/status' do
      json(200, status: agent.synchronize { agent.newest([:running]) ? 'busy' : 'idle' })
    end
  end
end
