# frozen_string_literal: true

# Restores as the Sinatra agent on Puma logs them: the seed, success, failure.

# The sample output of the a9s-pg backup documentation, line for line.
Corpus.define('seed') do |s|
  s.existing_log
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 5)
  s.restore(at: '2018-11-20T12:12:30.100000Z', took: '0.0023')
  s.poll(at: '2018-11-20T12:12:30.400000Z', took: '0.7541')
  s.agent(at: '2018-11-20T12:12:33Z', begin: 5)
  s.poll(at: '2018-11-20T12:12:44.500000Z', took: '0.6944')
  s.finish(5, at: '2018-11-20T12:13:00.939338Z')
  s.poll(at: '2018-11-20T12:13:01.500000Z', took: '0.7154')
end

# An ERROR while the restore runs, then the restore logs success.
Corpus.define('error-then-success') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', backup_id: 'a9s-pg-1542859215559', success: '30.839338',
                    steps: { '10.012233' => ['error', 'could not remove temporary file /var/vcap/store/restore/tmp.41: No such file or directory'] })
end

# An ERROR with a backtrace and no success: the restore failed when it was logged.
Corpus.define('real-failure-backtrace') do |s|
  s.start_agent(at: '2018-11-20T13:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.restore(at: '2018-11-20T13:00:00.100000Z', took: '0.0022', backup_id: 'a9s-pg-1542859215559')
  s.agent(at: '2018-11-20T13:00:00.400000Z', begin: 41)
  s.poll(at: '2018-11-20T13:00:00.600000Z')
  s.record(at: '2018-11-20T13:00:03.100000Z', message: 'Downloading backup a9s-pg-1542859215559')
  s.record(at: '2018-11-20T13:00:10.200000Z', severity: 'warn', message: 'retrying download (attempt 2 of 3)')
  s.fail(41, at: '2018-11-20T13:00:20.300000Z',
             message: 'could not download backup a9s-pg-1542859215559: 403 Forbidden')
  s.poll(at: '2018-11-20T13:00:30.500000Z', took: '0.6944')
  s.poll(at: '2018-11-20T13:00:45.500000Z', took: '0.6102')
end

# The handler logs the start of the restore before Rack writes the access line,
# which it does only after the response is sent.
Corpus.define('handler-logs-before-access-line') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41, announce: true)
  s.restore(at: '2018-11-20T12:12:30.998000Z', took: '0.0043', backup_id: 'a9s-pg-1542859215559')
  s.agent(at: '2018-11-20T12:12:31.200000Z', begin: 41)
  s.poll(at: '2018-11-20T12:12:31.300000Z')
  s.record(at: '2018-11-20T12:12:35.000100Z', message: 'Restoring backup a9s-pg-1542859215559')
  s.poll(at: '2018-11-20T12:12:46.300000Z', took: '0.6944')
  s.finish(41, at: '2018-11-20T12:12:58.400000Z')
  s.poll(at: '2018-11-20T12:13:01.300000Z', took: '0.7154')
end
