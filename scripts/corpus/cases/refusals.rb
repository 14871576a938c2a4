# frozen_string_literal: true

# Requests the agent answers with an error while a restore runs, or instead of
# starting one.

# A GET on a route the agent does not have: Sinatra answers 404.
Corpus.define('unknown-route-404') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338', steps: {
                      '7.9' => ->(sc, at) { sc.request('get', '/v1/instances/a9s-pg', at: at, took: '0.0012', from: '172.28.19.60') },
                      '9.9' => 'Restoring backup'
                    })
end

# A second restore asked for while the first runs: the agent refuses it (409)
# and the first carries on.
Corpus.define('refused-second-request') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338', steps: {
                      '11.2' => ->(sc, at) { sc.restore(at: at, took: '0.0017', user: 'admin', from: '172.28.19.57') },
                      '13.9' => 'Restoring backup'
                    })
end

# The log begins (after a rotation) while a restore asked for earlier runs; a
# new restore is refused with 409; the earlier one succeeds.
Corpus.define('refused-restore-409') do |s|
  s.existing_log
  s.start_agent(at: '2018-11-20T13:55:00Z', pid: 31554)
  s.agent(next_id: 40, running: { 'kind' => 'restore' })
  s.record(at: '2018-11-20T14:00:02.250000Z', message: 'Replaying WAL')
  s.poll(at: '2018-11-20T14:00:03.000000Z', took: '0.6011')
  s.restore(at: '2018-11-20T14:00:05.000000Z', took: '0.0019', user: 'admin')
  s.finish(40, at: '2018-11-20T14:00:30.500000Z')
  s.poll(at: '2018-11-20T14:00:33.000000Z', took: '0.5530')
end

# The agent answers a restore request with 500 and starts nothing.
Corpus.define('refused-restore-500') do |s|
  s.start_agent(at: '2018-11-20T14:00:00Z', pid: 31554)
  s.agent(restore_status: 500)
  s.restore(at: '2018-11-20T14:00:05.000000Z', took: '0.0100', user: 'admin')
  s.poll(at: '2018-11-20T14:00:06.000000Z', took: '0.5920')
end

# Order polls answered 500, then 404, for over a minute after a restore began,
# and nothing else: the restore is lost.
{ 'order-polls-500' => 500, 'order-polls-404' => 404 }.each do |name, status|
  Corpus.define(name) do |s|
    s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
    s.agent(next_id: 41)
    s.restore(at: '2018-11-20T12:12:30.100000Z')
    s.agent(at: '2018-11-20T12:12:30.500000Z', begin: 41)
    s.poll(at: '2018-11-20T12:12:30.700000Z')
    s.record(at: '2018-11-20T12:12:35.000000Z', message: 'Downloading backup')
    s.agent(order_status: status)
    (0..5).each do |i|
      s.poll(at: format('2018-11-20T12:%02d:%02d.500000Z', 12 + ((45 + 15 * i) / 60), (45 + 15 * i) % 60), took: '0.0042')
    end
  end
end

# An exception raised in the restore handler: Sinatra's dump_errors writes it to
# rack.errors (here production.log, with the server's boot banner) and answers 500.
Corpus.define('sinatra-dump-errors') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, output: :log)
  s.agent(raise_in_restore: 'backup a9s-pg-1542859215559 is not in the backup store')
  s.restore(at: '2018-11-20T12:12:30.100000Z', took: '0.0211', backup_id: 'a9s-pg-1542859215559')
  s.poll(at: '2018-11-20T12:12:31.000000Z', took: '0.5920')
end

# A restore asked for with a wrong password: Rack::Auth::Basic answers 401 and
# the access line names no user. Then the right password, and a restore.
Corpus.define('unauthorized-restore-401') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.restore(at: '2018-11-20T12:11:58.400000Z', took: '0.0008', user: 'admin', password: 'wrong')
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338', user: 'admin', steps: { '9.9' => 'Restoring backup' })
end
