# frozen_string_literal: true

# The agent process is killed during a restore (kill -9, as the OOM killer or a
# monit restart does) and started again: a new pid, the server's boot banner.
{ 'agent-restart-puma' => 'puma', 'agent-restart-webrick' => 'webrick' }.each do |name, server|
  Corpus.define(name) do |s|
    s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, server: server, output: :log)
    s.agent(next_id: 41)
    s.restore(at: '2018-11-20T12:12:30.100000Z', backup_id: 'a9s-pg-1542859215559')
    s.agent(at: '2018-11-20T12:12:30.500000Z', begin: 41)
    s.poll(at: '2018-11-20T12:12:30.700000Z')
    s.record(at: '2018-11-20T12:12:35.000000Z', message: 'Restoring backup a9s-pg-1542859215559')
    s.poll(at: '2018-11-20T12:12:45.000000Z', took: '0.6944')
    s.kill_agent
    s.start_agent(at: '2018-11-20T12:13:52.000000Z', pid: 32210, server: server, output: :log)
    s.poll(at: '2018-11-20T12:14:00.500000Z', took: '0.0061')
    s.poll(at: '2018-11-20T12:14:15.500000Z', took: '0.0043')
  end
end

# WEBrick with its own access log on, as it is by default, writing to the same
# file: each request has Rack's access line, then WEBrick's (the peer address,
# no user, zone name, no duration) and its referer line.
Corpus.define('webrick-access-log') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, server: 'webrick', output: :log, webrick_access_log: true)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338', steps: { '9.9' => 'Restoring backup' })
end
