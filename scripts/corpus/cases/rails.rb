# frozen_string_literal: true

# The agent as a Rails 6.1 API application: request logs tagged with the
# request id, and a FATAL RoutingError for a path it has no route for.

# A browser asks for /favicon.ico while a restore runs: Rails logs a FATAL
# RoutingError; the restore goes on and succeeds.
Corpus.define('rails-favicon-fatal') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, app: 'rails')
  s.agent(next_id: 41)
  s.restore(at: '2018-11-20T12:12:30.100000Z', took: '0.0052', backup_id: 'a9s-pg-1542859215559')
  s.agent(at: '2018-11-20T12:12:30.500000Z', begin: 41)
  s.poll(at: '2018-11-20T12:12:31.000000Z', took: '0.0031')
  s.request('get', '/favicon.ico', at: '2018-11-20T12:12:38.250000Z', took: '0.0011', from: '10.11.12.13', user: nil,
                                   headers: { 'Accept' => 'image/avif,image/webp,*/*' })
  s.record(at: '2018-11-20T12:12:40.000000Z', message: 'Restoring backup a9s-pg-1542859215559')
  s.poll(at: '2018-11-20T12:12:46.000000Z', took: '0.0029')
  s.finish(41, at: '2018-11-20T12:13:00.939338Z')
  s.poll(at: '2018-11-20T12:13:01.500000Z', took: '0.0027')
end

# Rails' request logs only, no access lines; and the same with Rack's
# CommonLogger in front, where each request is logged twice and counts once.
{ 'rails-only-request-logs' => 'rails', 'rails-and-access' => 'rails-access' }.each do |name, app|
  Corpus.define(name) do |s|
    s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, app: app)
    s.agent(next_id: 41)
    s.restore(at: '2018-11-20T12:12:30.100000Z', took: '0.0052', backup_id: 'a9s-pg-1542859215559')
    s.agent(at: '2018-11-20T12:12:30.500000Z', begin: 41)
    s.poll(at: '2018-11-20T12:12:31.000000Z', took: '0.0031')
    s.record(at: '2018-11-20T12:12:40.000000Z', message: 'Restoring backup a9s-pg-1542859215559')
    s.poll(at: '2018-11-20T12:12:46.000000Z', took: '0.0029')
    s.finish(41, at: '2018-11-20T12:13:00.939338Z')
    s.poll(at: '2018-11-20T12:13:01.500000Z', took: '0.0027')
  end
end

# The restore action raises: Rails logs "Completed 500 Internal Server Error"
# and a FATAL with the exception and the application's backtrace, tagged.
Corpus.define('rails-exception-in-restore') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, app: 'rails')
  s.agent(next_id: 41, raise_in_restore: 'backup a9s-pg-1542859215559 is not in the backup store')
  s.restore(at: '2018-11-20T12:12:30.100000Z', took: '0.0087', backup_id: 'a9s-pg-1542859215559')
  s.poll(at: '2018-11-20T12:12:31.000000Z', took: '0.0031')
end
