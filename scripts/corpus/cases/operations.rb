# frozen_string_literal: true

# Several operations in one log: overlapping, in the same second, in a
# history; a clock that steps back; a restore that names its phases.

# A restore accepted while a backup runs (the agent refuses only a second
# restore). Each names itself in its records; then a bare "success" that could
# be either's, and the log ends.
Corpus.define('overlap-backup-restore') do |s|
  s.start_agent(at: '2018-11-22T03:55:00Z', pid: 31554)
  s.agent(next_id: 40)
  s.backup(at: '2018-11-22T04:00:15.559000Z')
  s.agent(at: '2018-11-22T04:00:15.900000Z', begin: 40)
  s.poll(at: '2018-11-22T04:00:16.000000Z', took: '0.6011')
  s.record(at: '2018-11-22T04:00:20.112233Z', message: 'Creating backup a9s-pg-1542859215559')
  s.restore(at: '2018-11-22T04:00:40.200000Z', backup_id: 'a9s-pg-1542772815123')
  s.agent(at: '2018-11-22T04:00:40.500000Z', begin: 41)
  s.record(at: '2018-11-22T04:00:43.000000Z', message: 'restore 41: downloading backup a9s-pg-1542772815123')
  s.poll(at: '2018-11-22T04:00:46.000000Z', took: '0.5920')
  s.record(at: '2018-11-22T04:01:05.443322Z', message: 'backup a9s-pg-1542859215559 uploaded')
  s.record(at: '2018-11-22T04:01:20.000000Z', message: 'restore 41: restoring base backup')
  s.agent(at: '2018-11-22T04:01:28.853000Z', log: %w[info success], finish: 40)
  s.poll(at: '2018-11-22T04:01:31.000000Z', took: '0.5530')
end

# Two restore requests in the same second: the first answered 500, the
# second (the Backup Manager's retry) accepted; it succeeds.
Corpus.define('two-restores-same-second') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41, restore_status: 500)
  s.restore(at: '2018-11-20T12:12:30.050000Z', took: '0.0100')
  s.agent(restore_status: nil)
  s.typical_restore(start: '2018-11-20T12:12:30.620000Z', success: '30.319338', steps: { '9.38' => 'Restoring backup' })
end

# The wall clock steps back an hour (an NTP correction) while a restore runs;
# lines keep coming with the earlier times.
Corpus.define('clock-step-back') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', steps: {
                      '9.9' => 'Restoring base backup',
                      '149.9' => ->(sc, at) { sc.poll(at: at, took: '0.6102') },
                      '329.9' => 'Replaying WAL'
                    })
  s.agent(at: '2018-11-20T12:19:30Z')
  s.step_clock(-3600)
  s.poll(at: '2018-11-20T11:20:00.500000Z', took: '0.6102')
  s.record(at: '2018-11-20T11:20:30.000000Z', message: 'WAL replay finished')
  s.finish(41, at: '2018-11-20T11:21:00.939338Z')
  s.poll(at: '2018-11-20T11:21:01.500000Z', took: '0.7154')
end

# A restore whose records name its phases.
Corpus.define('phases') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', backup_id: 'a9s-pg-1542859215559', success: '175.2', steps: {
                      '2' => 'Downloading backup a9s-pg-1542859215559',
                      '20.5' => 'Restoring base backup',
                      '60.25' => 'WAL replay started',
                      '90' => ->(sc, at) { sc.poll(at: at, took: '0.6102') },
                      '170.75' => 'WAL replay finished'
                    })
end

# Three nightly backups, then a restore of the first; and the same restore when
# its records do not name the backup.
{ 'restore-named-backup-with-later-backups' => true, 'restore-unnamed-backup' => false }.each do |name, named|
  Corpus.define(name) do |s|
    s.start_agent(at: '2018-11-20T01:55:00Z', pid: 31554)
    s.agent(next_id: 40)
    ids = %w[2018-11-20 2018-11-21 2018-11-22].each_with_index.map do |day, i|
      s.typical_backup(start: "#{day}T02:00:00.#{format('%03d', 123 + i * 111)}000Z", id: 40 + i, uploaded: (55 + i * 7).to_s)
    end
    first = ids.first
    s.typical_restore(start: '2018-11-22T09:30:00.100000Z', id: 43, backup_id: first, success: '95.4', steps: {
                        '3' => named ? "Downloading backup #{first}" : 'Downloading backup',
                        '40' => named ? "Restoring backup #{first}" : 'Restoring backup'
                      })
  end
end

# Earlier restores of different lengths, all successful, then one still running
# when the log ends.
Corpus.define('restore-history') do |s|
  s.start_agent(at: '2018-11-19T08:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-19T09:00:00.100000Z', id: 41, success: '45.25', steps: { '5' => 'Restoring backup' })
  s.typical_restore(start: '2018-11-20T14:30:00.100000Z', id: 42, success: '180.5', steps: {
                      '5' => 'Restoring backup', '90' => ->(sc, at) { sc.poll(at: at, took: '0.6102') }
                    })
  s.typical_restore(start: '2018-11-21T16:45:00.100000Z', id: 43, success: '720.75', steps: {
                      '5' => 'Restoring backup', '300' => ->(sc, at) { sc.poll(at: at, took: '0.6102') },
                      '600' => ->(sc, at) { sc.poll(at: at, took: '0.6102') }
                    })
  s.typical_restore(start: '2018-11-22T10:00:00.100000Z', id: 44, steps: { '5' => 'Restoring backup' })
end

# A restore that says nothing for 25 minutes (no record, no poll), then
# carries on and succeeds.
Corpus.define('long-silence-then-success') do |s|
  s.start_agent(at: '2018-11-20T16:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T16:00:00.100000Z', success: '1556.2', steps: {
                      '3.9' => 'Restoring base backup', '1503.9' => 'Replaying WAL'
                    })
end

# A backup that fails uploading: an ERROR with a backtrace, no success.
Corpus.define('backup-failed') do |s|
  s.start_agent(at: '2018-11-22T03:55:00Z', pid: 31554)
  s.agent(next_id: 40)
  s.backup(at: '2018-11-22T04:00:15.559000Z')
  s.agent(at: '2018-11-22T04:00:15.900000Z', begin: 40)
  s.poll(at: '2018-11-22T04:00:16.000000Z', took: '0.6011')
  s.record(at: '2018-11-22T04:00:20.112233Z', message: 'Creating backup a9s-pg-1542859215559')
  s.fail(40, at: '2018-11-22T04:01:05.443322Z',
             message: 'could not upload backup a9s-pg-1542859215559: Connection reset by peer')
  s.poll(at: '2018-11-22T04:01:16.000000Z', took: '0.5530')
end

# A restore fails; two minutes later the same backup is asked for again, and
# that restore succeeds.
Corpus.define('retry-after-failed-restore') do |s|
  s.start_agent(at: '2018-11-20T13:00:00Z', pid: 31554)
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T13:00:00.100000Z', backup_id: 'a9s-pg-1542859215559', steps: {
                      '3' => 'Downloading backup a9s-pg-1542859215559',
                      '20.2' => lambda { |sc, at|
                        sc.fail(41, at: at, message: 'could not download backup a9s-pg-1542859215559: 503 Service Unavailable')
                      }
                    })
  s.typical_restore(start: '2018-11-20T13:02:10.100000Z', id: 42, backup_id: 'a9s-pg-1542859215559', success: '48.2',
                    steps: { '3' => 'Downloading backup a9s-pg-1542859215559', '20' => 'Restoring backup a9s-pg-1542859215559' })
end
