/**
 * Owns the JSON text of an event as `replay --json` prints it: exactly
 * `JSON.stringify(event)`, made faster for a run of events.
 *
 * Hand-written because a dense log makes an event of nearly every line and
 * JSON.stringify was the largest cost of replaying it (a third of the CPU, for
 * text that is mostly the same from one event to the next: the operation's
 * id, times, host, state). Here the fields are written in the order the
 * tracker builds them (`emit` in track/tracker.ts), and a field's JSON is
 * kept from the last event while its value stays the same, so an event costs
 * one escape of its line and a few numbers. Schema serializers (fastify's
 * fast-json-stringify) write their schema's order and load a validator at
 * start-up, which replay avoids. test/unit/event-json.test.ts holds the text
 * to JSON.stringify's over every event of the fixtures and the corpus; the
 * key lists below fail to compile when the model gains a field.
 */
import type { LineSource, Operation, WatchEvent } from './model.js';

/** Every key of an event and of an operation, in the order JSON.stringify meets them. */
const EVENT_KEYS = ['id', 'type', 'time', 'restoreId', 'backupId', 'state', 'file', 'offset', 'source', 'line', 'message', 'operation'] as const;
const OPERATION_KEYS = [
  'kind',
  'id',
  'state',
  'requestedAt',
  'requestSeen',
  'requestedBy',
  'requestedByUser',
  'requestStatus',
  'finishedAt',
  'lastActivityAt',
  'durationMs',
  'orderPolls',
  'failedPolls',
  'messages',
  'lastMessage',
  'failure',
  'phase',
  'namedBackupId',
  'warnings',
] as const;
// A field added to the model and not written here would be dropped silently: these fail to compile instead.
const EVERY_EVENT_KEY: Exclude<keyof WatchEvent, (typeof EVENT_KEYS)[number]> extends never ? true : never = true;
const EVERY_OPERATION_KEY: Exclude<keyof Operation, (typeof OPERATION_KEYS)[number]> extends never ? true : never = true;
void EVERY_EVENT_KEY;
void EVERY_OPERATION_KEY;

type OperationHead = Pick<Operation, 'kind' | 'id' | 'state' | 'requestedAt' | 'requestSeen' | 'requestedBy' | 'requestedByUser' | 'requestStatus'>;

/** The last string written in one place, and its JSON. */
class Kept {
  private value: string | null = null;
  private json = 'null';

  of(value: string | null): string {
    if (value !== this.value) {
      this.value = value;
      this.json = JSON.stringify(value);
    }
    return this.json;
  }
}

/** Writes events as JSON, one writer per run of events (it remembers the last one's fields). */
export class EventJson {
  private readonly type = new Kept();
  private readonly time = new Kept();
  private readonly operationId = new Kept();
  private readonly state = new Kept();
  private readonly file = new Kept();
  private readonly sourcePath = new Kept();
  private readonly message = new Kept();
  private readonly opHead = new Kept();
  private readonly requestedAt = new Kept();
  private readonly requestedBy = new Kept();
  private readonly requestedByUser = new Kept();
  private readonly finishedAt = new Kept();
  private readonly lastActivityAt = new Kept();
  private readonly lastMessage = new Kept();
  private readonly failure = new Kept();
  private readonly phase = new Kept();
  private readonly namedBackupId = new Kept();
  /** The operation's first fields, which change only when it starts or ends (copied: never a live object), and their JSON. */
  private head: OperationHead | null = null;
  private headJson = '';

  /** `JSON.stringify(e)`. */
  stringify(e: WatchEvent): string {
    let s = `{"id":${num(e.id)},"type":${this.type.of(e.type)},"time":${this.time.of(e.time)}`;
    if (e.restoreId !== undefined) s += `,"restoreId":${this.operationId.of(e.restoreId)}`;
    if (e.backupId !== undefined) s += `,"backupId":${this.operationId.of(e.backupId)}`;
    s += `,"state":${this.state.of(e.state)},"file":${this.file.of(e.file)},"offset":${num(e.offset)}`;
    if (e.source !== undefined) s += `,"source":${this.source(e.source)}`;
    return `${s},"line":${JSON.stringify(e.line)},"message":${this.message.of(e.message)},"operation":${this.operation(e.operation)}}`;
  }

  private source(src: LineSource): string {
    const identity = src.identity === null ? 'null' : JSON.stringify(src.identity);
    return `{"path":${this.sourcePath.of(src.path)},"identity":${identity},"offset":${num(src.offset)}}`;
  }

  private operation(op: Operation): string {
    let s = this.operationHead(op);
    s += `,"finishedAt":${this.finishedAt.of(op.finishedAt)},"lastActivityAt":${this.lastActivityAt.of(op.lastActivityAt)}`;
    s += `,"durationMs":${op.durationMs === null ? 'null' : num(op.durationMs)},"orderPolls":${num(op.orderPolls)}`;
    if (op.failedPolls !== undefined) s += `,"failedPolls":${isEmpty(op.failedPolls) ? '{}' : JSON.stringify(op.failedPolls)}`;
    s += `,"messages":${num(op.messages)},"lastMessage":${this.lastMessage.of(op.lastMessage)},"failure":${this.failure.of(op.failure)}`;
    if (op.phase !== undefined) s += `,"phase":${this.phase.of(op.phase)}`;
    if (op.namedBackupId !== undefined) s += `,"namedBackupId":${this.namedBackupId.of(op.namedBackupId)}`;
    if (op.warnings !== undefined) s += `,"warnings":${op.warnings.length === 0 ? '[]' : JSON.stringify(op.warnings)}`;
    return `${s}}`;
  }

  /** `{"kind":…` up to `requestStatus`, kept while those fields stay the same. */
  private operationHead(op: Operation): string {
    const h = this.head;
    if (
      h === null ||
      op.kind !== h.kind ||
      op.id !== h.id ||
      op.state !== h.state ||
      op.requestedAt !== h.requestedAt ||
      op.requestSeen !== h.requestSeen ||
      op.requestedBy !== h.requestedBy ||
      op.requestedByUser !== h.requestedByUser ||
      op.requestStatus !== h.requestStatus
    ) {
      let s = `{"kind":${JSON.stringify(op.kind)},"id":${this.opHead.of(op.id)},"state":${JSON.stringify(op.state)}`;
      s += `,"requestedAt":${this.requestedAt.of(op.requestedAt)}`;
      if (op.requestSeen !== undefined) s += `,"requestSeen":${op.requestSeen}`;
      s += `,"requestedBy":${this.requestedBy.of(op.requestedBy)}`;
      if (op.requestedByUser !== undefined) s += `,"requestedByUser":${this.requestedByUser.of(op.requestedByUser)}`;
      this.headJson = `${s},"requestStatus":${num(op.requestStatus)}`;
      this.head = {
        kind: op.kind,
        id: op.id,
        state: op.state,
        requestedAt: op.requestedAt,
        requestSeen: op.requestSeen,
        requestedBy: op.requestedBy,
        requestedByUser: op.requestedByUser,
        requestStatus: op.requestStatus,
      };
    }
    return this.headJson;
  }
}

/** A number as JSON writes it (NaN and the infinities as null). */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
