/**
 * The commands of the adversarial model and their fast-check arbitraries. A command names its
 * actor by a small number that the runner takes modulo the actors eligible at that moment, so
 * that every command stays meaningful while fast-check shrinks a sequence.
 */
import fc from 'fast-check';

export type Command =
  // Honest members.
  | { c: 'say'; who: number }
  /** A direct message from one online member to another (`/msg`): a two-member room of its own. */
  | { c: 'dm'; who: number; to: number }
  | { c: 'join' }
  | { c: 'leave'; who: number }
  | { c: 'kick'; who: number }
  | { c: 'reconnect'; who: number }
  // The malicious relay, on one member's connection (the next `n` `msg` frames to it).
  | { c: 'drop'; who: number; n: number }
  | { c: 'dup'; who: number; n: number }
  | { c: 'delay'; who: number; n: number; ms: number }
  | { c: 'reorder'; who: number; n: number }
  | { c: 'tamper'; who: number; at: number }
  | { c: 'replay'; who: number; k: number }
  | { c: 'spliceEpoch'; who: number; k: number }
  | { c: 'spliceRoom'; who: number; k: number }
  | { c: 'presence'; who: number; count: number }
  | { c: 'refusal' }
  | { c: 'garbageMsg'; who: number; epoch: number }
  // Link holders and malicious members.
  | { c: 'claim'; epoch: number }
  | { c: 'garbageCommit'; epoch: number }
  | { c: 'ghost'; who: number };

export type Sequence = { size: number; cmds: Command[] };

const who = fc.nat({ max: 7 });
const epoch = fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.nat({ max: 6 }), fc.constant(2 ** 32));

/**
 * Commands left out of the generator (SAFEHOUSE_MODEL_WITHOUT=leave,ghost): only for exploring
 * past a known, reported bug; the default leaves nothing out.
 */
const without = new Set((process.env.SAFEHOUSE_MODEL_WITHOUT ?? '').split(',').filter(Boolean));

const ALL: Array<{ weight: number; arbitrary: fc.Arbitrary<Command>; c: Command['c'] }> = [
  { c: 'say', weight: 6, arbitrary: fc.record({ c: fc.constant('say' as const), who }) },
  { c: 'dm', weight: 2, arbitrary: fc.record({ c: fc.constant('dm' as const), who, to: who }) },
  { c: 'join', weight: 2, arbitrary: fc.record({ c: fc.constant('join' as const) }) },
  { c: 'leave', weight: 1, arbitrary: fc.record({ c: fc.constant('leave' as const), who }) },
  { c: 'kick', weight: 2, arbitrary: fc.record({ c: fc.constant('kick' as const), who }) },
  { c: 'reconnect', weight: 1, arbitrary: fc.record({ c: fc.constant('reconnect' as const), who }) },
  { c: 'drop', weight: 2, arbitrary: fc.record({ c: fc.constant('drop' as const), who, n: fc.integer({ min: 1, max: 3 }) }) },
  { c: 'dup', weight: 2, arbitrary: fc.record({ c: fc.constant('dup' as const), who, n: fc.integer({ min: 1, max: 3 }) }) },
  { c: 'delay', weight: 2, arbitrary: fc.record({ c: fc.constant('delay' as const), who, n: fc.integer({ min: 1, max: 3 }), ms: fc.integer({ min: 20, max: 400 }) }) },
  { c: 'reorder', weight: 2, arbitrary: fc.record({ c: fc.constant('reorder' as const), who, n: fc.integer({ min: 2, max: 3 }) }) },
  { c: 'tamper', weight: 2, arbitrary: fc.record({ c: fc.constant('tamper' as const), who, at: fc.nat({ max: 4096 }) }) },
  { c: 'replay', weight: 2, arbitrary: fc.record({ c: fc.constant('replay' as const), who, k: fc.nat({ max: 31 }) }) },
  { c: 'spliceEpoch', weight: 2, arbitrary: fc.record({ c: fc.constant('spliceEpoch' as const), who, k: fc.nat({ max: 31 }) }) },
  { c: 'spliceRoom', weight: 1, arbitrary: fc.record({ c: fc.constant('spliceRoom' as const), who, k: fc.nat({ max: 31 }) }) },
  { c: 'presence', weight: 1, arbitrary: fc.record({ c: fc.constant('presence' as const), who, count: fc.oneof(fc.constant(0), fc.constant(1), fc.nat({ max: 1000 })) }) },
  { c: 'refusal', weight: 1, arbitrary: fc.record({ c: fc.constant('refusal' as const) }) },
  { c: 'garbageMsg', weight: 1, arbitrary: fc.record({ c: fc.constant('garbageMsg' as const), who, epoch }) },
  { c: 'claim', weight: 1, arbitrary: fc.record({ c: fc.constant('claim' as const), epoch }) },
  { c: 'garbageCommit', weight: 1, arbitrary: fc.record({ c: fc.constant('garbageCommit' as const), epoch }) },
  { c: 'ghost', weight: 1, arbitrary: fc.record({ c: fc.constant('ghost' as const), who }) },
];

export const commandArb: fc.Arbitrary<Command> = fc.oneof(...ALL.filter((a) => !without.has(a.c)).map(({ weight, arbitrary }) => ({ weight, arbitrary })));

export const sequenceArb: fc.Arbitrary<Sequence> = fc.record({
  size: fc.integer({ min: 2, max: 3 }),
  cmds: fc.array(commandArb, { minLength: 3, maxLength: 8 }),
});

/** One line per command, for failure reports. */
export function describe(seq: Sequence): string {
  return `room of ${seq.size}: ${seq.cmds.map((c) => JSON.stringify(c)).join(', ')}`;
}
