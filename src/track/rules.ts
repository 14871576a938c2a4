/**
 * The tracker's rules, compiled from config data into matchers. The defaults
 * (in config.ts) describe the a9s backup-agent: `POST /v1/restore` and
 * `POST /v1/backup` start an operation, `POST /v1/order` polls advance it, a
 * logger `success` ends it well and an ERROR or FATAL entry ends it badly.
 */
import { DEFAULT_CONFIG } from '../defaults.js';
import type { Severity } from '../model.js';

/** The rules as data, as the config's `track.rules` holds them. */
export type Rules = typeof DEFAULT_CONFIG.track.rules;

export interface RequestMatcher {
  method: string;
  path: string;
}

export interface TrackerRules {
  restoreRequest: RequestMatcher;
  backupRequest: RequestMatcher;
  progressRequests: RequestMatcher[];
  successMessages: RegExp[];
  failureMessages: RegExp[];
  failureSeverities: ReadonlySet<Severity>;
  stallAfterMs: number;
}

export const DEFAULT_STALL_AFTER_MS = DEFAULT_CONFIG.track.stallAfterSeconds * 1000;

export function compileRules(rules: Rules = DEFAULT_CONFIG.track.rules, stallAfterMs = DEFAULT_STALL_AFTER_MS): TrackerRules {
  return {
    restoreRequest: rules.restoreRequest,
    backupRequest: rules.backupRequest,
    progressRequests: rules.progressRequests,
    successMessages: rules.successMessages.map((s) => new RegExp(s, 'i')),
    failureMessages: rules.failureMessages.map((s) => new RegExp(s, 'i')),
    failureSeverities: new Set(rules.failureSeverities),
    stallAfterMs,
  };
}

export function matchesRequest(m: RequestMatcher, method: string, path: string): boolean {
  return m.path === path && m.method === method;
}
