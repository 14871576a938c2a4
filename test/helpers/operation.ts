import type { Operation } from '../../src/model.js';

/** An operation summary as the tracker makes one, requested at `requestedAt` and ended at `finishedAt` (null: still going). */
export function operation(
  kind: Operation['kind'],
  id: string,
  requestedAt: string,
  finishedAt: string | null,
  state: Operation['state'] = finishedAt === null ? 'running' : 'succeeded',
): Operation {
  return {
    kind,
    id,
    state,
    requestedAt,
    requestedBy: '10.0.0.1',
    requestStatus: 200,
    finishedAt,
    lastActivityAt: finishedAt ?? requestedAt,
    durationMs: finishedAt === null ? null : Date.parse(finishedAt) - Date.parse(requestedAt),
    orderPolls: 0,
    messages: 0,
    lastMessage: null,
    failure: null,
    requestedByUser: 'admin',
    failedPolls: {},
    phase: null,
    namedBackupId: null,
    warnings: [],
  };
}
