# frozen_string_literal: true

# The same kind of restore in the log formats the agent may write: another
# time zone, other Logger formats, Rack 1.5's access line.

# TZ=Europe/Berlin: a backup in October (CEST, +0200) and a restore in November
# (CET, +0100). Logger lines carry local time without a zone.
Corpus.define('timezone-berlin') do |s|
  s.start_agent(at: '2018-10-27T09:55:00Z', pid: 31554, tz: 'Europe/Berlin')
  s.agent(next_id: 40)
  s.typical_backup(start: '2018-10-27T10:00:00.250000Z', id: 40)
  s.kill_agent # the VM is recreated between October and November
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 27802, tz: 'Europe/Berlin')
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', backup_id: 'a9s-pg-1540634400250', success: '30.839338',
                    steps: { '5' => 'Downloading backup a9s-pg-1540634400250' })
end

# TZ=Europe/Berlin on 2018-10-28, when 03:00 CEST becomes 02:00 CET: a restore
# from 02:50 CEST to 02:20 CET, half an hour later. Its Logger lines repeat the
# hour from two to three; only the access lines' +0200/+0100 tell them apart.
Corpus.define('timezone-dst-fallback') do |s|
  s.start_agent(at: '2018-10-28T00:40:00Z', pid: 31554, tz: 'Europe/Berlin')
  s.agent(next_id: 41)
  polls = %w[300 600 900 1200 1500 1770].to_h do |offset|
    [offset, ->(sc, at) { sc.poll(at: at, took: '0.6102') }]
  end
  s.typical_restore(start: '2018-10-28T00:50:00.100000Z', success: '1800.839338', steps: polls.merge(
    '60' => 'Downloading backup',
    '450' => 'Restoring base backup',
    '1150' => 'Replaying WAL'
  ))
end

# Logger formats: the one of logger <= 1.4 with an application's own
# datetime_format ("[time#pid]", no space), a custom datetime_format without
# fractions, and a progname.
{
  'logger-old-format' => 'old-format',
  'logger-datetime-format' => 'datetime-format',
  'logger-progname' => 'progname'
}.each do |name, logger|
  Corpus.define(name) do |s|
    s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, logger: logger)
    s.agent(next_id: 41)
    s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338',
                      steps: { '4.9' => 'Downloading backup', '12.4' => ['warn', 'retrying download (attempt 2 of 3)'] })
  end
end

# Rack 1.5's access line: "[20/Nov/2018 12:12:30]", no zone, on a UTC machine.
Corpus.define('rack-old-time') do |s|
  s.start_agent(at: '2018-11-20T12:00:00Z', pid: 31554, rack: '1.5')
  s.agent(next_id: 41)
  s.typical_restore(start: '2018-11-20T12:12:30.100000Z', success: '30.839338', steps: { '9.9' => 'Restoring backup' })
end
