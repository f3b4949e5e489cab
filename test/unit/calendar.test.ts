// Promotion windows and freezes: hand-checked instants (time zones, DST days, midnight-crossing
// windows, freezes) and a property test against a brute-force scan.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  activeFreeze,
  isPromotionAllowed,
  localInstants,
  localParts,
  nextPromotionTime,
  offsetTransitions,
  windowContains,
  type FreezeSpec,
  type WindowSpec,
} from '../../workflows/calendar.ts';
import type { Weekday } from '../../workflows/spec/index.ts';

function win(days: Weekday[], from: string, to: string, timezone: string): WindowSpec {
  return { days, from, to, timezone };
}

const officeBerlin = win(['Mon', 'Tue', 'Wed', 'Thu'], '09:00', '16:00', 'Europe/Berlin');
const officeNewYork = win(['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], '09:00', '17:00', 'America/New_York');

function next(now: string, windows: WindowSpec[], freezes: FreezeSpec[] = []): string | undefined {
  return nextPromotionTime(new Date(now), windows, freezes)?.toISOString();
}

function allowed(now: string, windows: WindowSpec[], freezes: FreezeSpec[] = []): boolean {
  return isPromotionAllowed(new Date(now), windows, freezes);
}

const iso = (t: number) => new Date(t).toISOString();

describe('local time', () => {
  it('reads wall-clock parts and weekdays in a zone', () => {
    assert.deepEqual(localParts(Date.parse('2026-06-14T23:30:00Z'), 'Asia/Tokyo'), {
      year: 2026,
      month: 6,
      day: 15,
      hour: 8,
      minute: 30,
      second: 0,
      weekday: 'Mon',
    });
    assert.deepEqual(localParts(Date.parse('2026-01-01T00:00:00Z'), 'America/New_York'), {
      year: 2025,
      month: 12,
      day: 31,
      hour: 19,
      minute: 0,
      second: 0,
      weekday: 'Wed',
    });
  });

  it('finds DST transitions and the instants of a local time (none in a gap, two in an overlap)', () => {
    const year = [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z')] as const;
    assert.deepEqual(offsetTransitions('Europe/Berlin', ...year).map(iso), [
      '2026-03-29T01:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
    ]);
    assert.deepEqual(offsetTransitions('America/New_York', ...year).map(iso), [
      '2026-03-08T07:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
    ]);
    assert.deepEqual(offsetTransitions('Asia/Tokyo', ...year), []);
    assert.deepEqual(localInstants(2026, 3, 29, 150, 'Europe/Berlin'), []);
    assert.deepEqual(localInstants(2026, 10, 25, 150, 'Europe/Berlin').map(iso), [
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
    assert.deepEqual(localInstants(2026, 6, 10, 540, 'Europe/Berlin').map(iso), ['2026-06-10T07:00:00.000Z']);
  });
});

describe('promotion windows', () => {
  it('is always allowed without windows and freezes', () => {
    assert.equal(next('2026-06-13T03:17:45.123Z', []), '2026-06-13T03:17:45.123Z');
    assert.equal(allowed('2026-06-13T03:17:45.123Z', []), true);
  });

  it('honours weekday office hours in Europe/Berlin (summer and winter time)', () => {
    assert.equal(allowed('2026-06-10T10:00:00Z', [officeBerlin]), true); // Wed 12:00 CEST
    assert.equal(next('2026-06-10T10:00:00Z', [officeBerlin]), '2026-06-10T10:00:00.000Z');
    assert.equal(allowed('2026-06-10T06:59:59Z', [officeBerlin]), false); // Wed 08:59:59
    assert.equal(allowed('2026-06-10T07:00:00Z', [officeBerlin]), true); // Wed 09:00 sharp
    assert.equal(allowed('2026-06-10T13:59:59Z', [officeBerlin]), true); // Wed 15:59:59
    assert.equal(allowed('2026-06-10T14:00:00Z', [officeBerlin]), false); // Wed 16:00: `to` is exclusive
    assert.equal(next('2026-06-11T14:30:00Z', [officeBerlin]), '2026-06-15T07:00:00.000Z'); // Thu 16:30 → Mon 09:00
    assert.equal(next('2026-06-12T08:00:00Z', [officeBerlin]), '2026-06-15T07:00:00.000Z'); // Fri → Mon
    assert.equal(next('2026-01-12T06:00:00Z', [officeBerlin]), '2026-01-12T08:00:00.000Z'); // Mon 07:00 CET → 09:00 CET
  });

  it('honours office hours in America/New_York', () => {
    assert.equal(next('2026-06-13T15:00:00Z', [officeNewYork]), '2026-06-15T13:00:00.000Z'); // Sat → Mon 09:00 EDT
    assert.equal(next('2026-01-10T15:00:00Z', [officeNewYork]), '2026-01-12T14:00:00.000Z'); // Sat → Mon 09:00 EST
    assert.equal(allowed('2026-06-12T20:59:00Z', [officeNewYork]), true); // Fri 16:59 EDT
    assert.equal(allowed('2026-06-12T21:00:00Z', [officeNewYork]), false);
  });

  it('uses the local day of the window zone, not the UTC day', () => {
    const tokyoMonday = win(['Mon'], '08:00', '09:00', 'Asia/Tokyo');
    assert.equal(next('2026-06-13T00:00:00Z', [tokyoMonday]), '2026-06-14T23:00:00.000Z'); // Sunday in UTC
    assert.equal(allowed('2026-06-14T23:30:00Z', [tokyoMonday]), true);
  });

  it('takes the union of several windows', () => {
    const both = [officeBerlin, officeNewYork];
    assert.equal(next('2026-06-11T14:30:00Z', both), '2026-06-11T14:30:00.000Z'); // Thu: Berlin closed, New York open
    assert.equal(next('2026-06-12T21:30:00Z', both), '2026-06-15T07:00:00.000Z'); // Fri evening → Mon Berlin first
  });
});

describe('DST transitions', () => {
  // Europe/Berlin 2026: spring forward Sun 29 March 02:00 CET → 03:00 CEST (01:00Z);
  // fall back Sun 25 October 03:00 CEST → 02:00 CET (01:00Z).
  it('opens a window whose start falls in the spring-forward gap at the end of the gap', () => {
    const night = win(['Sun'], '02:30', '04:00', 'Europe/Berlin');
    assert.equal(next('2026-03-28T12:00:00Z', [night]), '2026-03-29T01:00:00.000Z'); // 03:00 CEST
    assert.equal(allowed('2026-03-29T00:59:00Z', [night]), false); // 01:59 CET
    assert.equal(allowed('2026-03-29T01:59:00Z', [night]), true); // 03:59 CEST
    assert.equal(allowed('2026-03-29T02:00:00Z', [night]), false); // 04:00 CEST
  });

  it('shifts the UTC time of a window across spring-forward (an hour shorter night window)', () => {
    const morning = win(['Sat', 'Sun'], '09:00', '10:00', 'Europe/Berlin');
    assert.equal(next('2026-03-28T07:00:00Z', [morning]), '2026-03-28T08:00:00.000Z'); // Sat 09:00 CET
    assert.equal(next('2026-03-28T09:00:00Z', [morning]), '2026-03-29T07:00:00.000Z'); // Sun 09:00 CEST
    const early = win(['Sun'], '01:00', '02:30', 'Europe/Berlin');
    assert.equal(allowed('2026-03-29T00:30:00Z', [early]), true); // 01:30 CET
    assert.equal(allowed('2026-03-29T01:00:00Z', [early]), false); // 03:00 CEST: past 02:30
  });

  it('skips a window that lies entirely in the spring-forward gap (America/New_York)', () => {
    // Sun 8 March 2026 02:00 EST → 03:00 EDT: 02:00-03:00 never happens; the next Sunday it does.
    const gap = win(['Sun'], '02:00', '03:00', 'America/New_York');
    assert.equal(next('2026-03-07T12:00:00Z', [gap]), '2026-03-15T06:00:00.000Z');
  });

  it('allows both occurrences of a repeated wall-clock time on fall-back day', () => {
    const night = win(['Sun'], '02:30', '04:00', 'Europe/Berlin');
    assert.equal(next('2026-10-24T12:00:00Z', [night]), '2026-10-25T00:30:00.000Z'); // 02:30 CEST
    assert.equal(allowed('2026-10-25T00:45:00Z', [night]), true); // 02:45 CEST
    assert.equal(allowed('2026-10-25T01:10:00Z', [night]), false); // 02:10 CET (the clock went back)
    assert.equal(next('2026-10-25T01:05:00Z', [night]), '2026-10-25T01:30:00.000Z'); // 02:30 CET
    const ny = win(['Sun'], '01:30', '01:45', 'America/New_York'); // 1 Nov 2026 02:00 EDT → 01:00 EST
    assert.equal(next('2026-11-01T05:50:00Z', [ny]), '2026-11-01T06:30:00.000Z');
  });

  it('shifts the UTC time of a window across fall-back', () => {
    const morning = win(['Sat', 'Sun'], '09:00', '10:00', 'Europe/Berlin');
    assert.equal(next('2026-10-24T09:00:00Z', [morning]), '2026-10-25T08:00:00.000Z'); // Sun 09:00 CET
  });
});

describe('windows crossing midnight', () => {
  // The days name the day the window starts: Friday 22:00 → Saturday 02:00.
  const fridayNight = win(['Fri'], '22:00', '02:00', 'UTC');

  it('runs from the named day into the next', () => {
    assert.equal(next('2026-06-12T21:00:00Z', [fridayNight]), '2026-06-12T22:00:00.000Z');
    assert.equal(allowed('2026-06-13T01:59:00Z', [fridayNight]), true); // Sat 01:59
    assert.equal(allowed('2026-06-13T02:00:00Z', [fridayNight]), false);
    assert.equal(allowed('2026-06-12T01:00:00Z', [fridayNight]), false); // Fri 01:00 belongs to Thursday's window
    assert.equal(next('2026-06-13T03:00:00Z', [fridayNight]), '2026-06-19T22:00:00.000Z');
  });

  it('works in a zone and across the spring-forward night', () => {
    assert.equal(
      next('2026-06-12T12:00:00Z', [win(['Fri'], '22:00', '02:00', 'Europe/Berlin')]),
      '2026-06-12T20:00:00.000Z',
    );
    const saturdayNight = win(['Sat'], '23:00', '03:00', 'Europe/Berlin');
    assert.equal(next('2026-03-28T12:00:00Z', [saturdayNight]), '2026-03-28T22:00:00.000Z');
    assert.equal(allowed('2026-03-29T00:59:00Z', [saturdayNight]), true); // 01:59 CET
    assert.equal(allowed('2026-03-29T01:00:00Z', [saturdayNight]), false); // 03:00 CEST: 3 hours, not 4
  });

  it('treats from = to as a whole day from `from`, and to 24:00 as the end of the day', () => {
    const weekend = win(['Sat'], '06:00', '06:00', 'UTC');
    assert.equal(allowed('2026-06-14T05:59:00Z', [weekend]), true); // Sun 05:59
    assert.equal(allowed('2026-06-14T06:00:00Z', [weekend]), false);
    assert.equal(next('2026-06-14T06:00:00Z', [weekend]), '2026-06-20T06:00:00.000Z');
    const evening = win(['Wed'], '18:00', '24:00', 'UTC');
    assert.equal(allowed('2026-06-10T23:59:00Z', [evening]), true);
    assert.equal(allowed('2026-06-11T00:00:00Z', [evening]), false);
    assert.equal(windowContains(evening, Date.parse('2026-06-10T18:00:00Z')), true);
  });
});

describe('freezes', () => {
  const yearEnd: FreezeSpec = {
    from: '2026-12-20T00:00:00Z',
    to: '2027-01-04T00:00:00Z',
    reason: 'year-end',
  };

  it('forbid promotion from `from` (inclusive) to `to` (exclusive)', () => {
    assert.equal(allowed('2026-12-19T23:59:59.999Z', [], [yearEnd]), true);
    assert.equal(allowed('2026-12-20T00:00:00Z', [], [yearEnd]), false);
    assert.equal(allowed('2027-01-04T00:00:00Z', [], [yearEnd]), true);
    assert.equal(next('2026-12-24T12:00:00Z', [], [yearEnd]), '2027-01-04T00:00:00.000Z');
    assert.equal(activeFreeze(Date.parse('2026-12-24T12:00:00Z'), [yearEnd])?.reason, 'year-end');
    assert.equal(activeFreeze(Date.parse('2027-01-04T00:00:00Z'), [yearEnd]), undefined);
  });

  it('win over windows, and the next window after the freeze counts', () => {
    assert.equal(allowed('2026-12-17T10:00:00Z', [officeBerlin], [yearEnd]), true); // Thu 11:00 CET, before the freeze
    assert.equal(allowed('2026-12-21T10:00:00Z', [officeBerlin], [yearEnd]), false); // Mon 11:00 CET, frozen
    assert.equal(next('2026-12-21T10:00:00Z', [officeBerlin], [yearEnd]), '2027-01-04T08:00:00.000Z'); // Mon 09:00 CET
  });

  it('end inside a window: promotion may start when the freeze ends', () => {
    const morning: FreezeSpec = { from: '2027-01-01T00:00:00Z', to: '2027-01-04T10:30:00Z' };
    assert.equal(next('2027-01-02T00:00:00Z', [officeBerlin], [morning]), '2027-01-04T10:30:00.000Z'); // 11:30 CET
  });

  it('end at the close of a window: the next window', () => {
    const untilClose: FreezeSpec = { from: '2026-06-15T00:00:00Z', to: '2026-06-15T14:00:00Z' }; // Mon 16:00 CEST
    assert.equal(next('2026-06-15T08:00:00Z', [officeBerlin], [untilClose]), '2026-06-16T07:00:00.000Z');
  });

  it('chain when they overlap', () => {
    const a: FreezeSpec = { from: '2026-06-01T00:00:00Z', to: '2026-06-05T00:00:00Z' };
    const b: FreezeSpec = { from: '2026-06-04T00:00:00Z', to: '2026-06-08T12:00:00Z' };
    assert.equal(next('2026-06-02T00:00:00Z', [], [a, b]), '2026-06-08T12:00:00.000Z');
    assert.equal(next('2026-06-02T00:00:00Z', [], [b, a]), '2026-06-08T12:00:00.000Z');
  });

  it('covering the whole horizon leave no promotion time', () => {
    const forever: FreezeSpec = { from: '2026-01-01T00:00:00Z', to: '2028-01-01T00:00:00Z' };
    assert.equal(next('2026-06-10T10:00:00Z', [officeBerlin], [forever]), undefined);
    assert.equal(next('2026-06-10T10:00:00Z', [], [forever]), undefined);
    // The horizon is 366 days: a freeze ending just inside it still gives an answer.
    const almost: FreezeSpec = { from: '2026-01-01T00:00:00Z', to: '2027-06-10T10:00:00Z' };
    assert.equal(next('2026-06-10T10:00:00Z', [], [almost]), '2027-06-10T10:00:00.000Z');
    // A shorter horizon: from Friday the Monday window is 3 days away.
    assert.equal(nextPromotionTime(new Date('2026-06-12T08:00:00Z'), [officeBerlin], [], 2), undefined);
    assert.equal(
      nextPromotionTime(new Date('2026-06-12T08:00:00Z'), [officeBerlin], [], 3)?.toISOString(),
      '2026-06-15T07:00:00.000Z',
    );
  });
});

// ---- property: nextPromotionTime agrees with a brute-force scan --------------------------------

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Pacific/Chatham',
];
const DAYS: Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const QUARTER = 15 * 60_000;
const hhmm = (quarters: number) =>
  `${String(Math.floor(quarters / 4)).padStart(2, '0')}:${String((quarters % 4) * 15).padStart(2, '0')}`;

// Window times on quarter hours and every zone's offsets and transitions on quarter hours too, so
// whether promotion is allowed is constant on each UTC quarter hour: scanning them is exhaustive.
const windowArb = fc.record({
  days: fc.subarray(DAYS, { minLength: 1 }),
  // Often in the small hours, where the DST transitions are.
  from: fc.oneof(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 6, max: 13 })).map(hhmm),
  to: fc.integer({ min: 0, max: 95 }).map(hhmm),
  timezone: fc.constantFrom(...ZONES),
});
// Instants around the 2026 DST transitions of the zones above, and elsewhere.
const nowArb = fc.oneof(
  fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
  fc
    .constantFrom(
      '2026-03-08T00:00:00Z',
      '2026-03-28T12:00:00Z',
      '2026-04-04T12:00:00Z',
      '2026-09-26T12:00:00Z',
      '2026-10-24T12:00:00Z',
      '2026-10-31T12:00:00Z',
    )
    .map(Date.parse),
);
const freezeArb = fc.option(
  fc.record({
    startQuarters: fc.integer({ min: -100, max: 300 }),
    lengthQuarters: fc.integer({ min: 1, max: 300 }),
  }),
  { nil: undefined },
);

describe('nextPromotionTime (property)', () => {
  it('returns exactly the first allowed instant a quarter-hour scan finds', () => {
    fc.assert(
      fc.property(
        fc.array(windowArb, { minLength: 1, maxLength: 2 }),
        nowArb,
        freezeArb,
        (windows, now, f) => {
          const base = Math.ceil(now / QUARTER) * QUARTER;
          const freezes: FreezeSpec[] = f
            ? [
                {
                  from: iso(base + f.startQuarters * QUARTER),
                  to: iso(base + (f.startQuarters + f.lengthQuarters) * QUARTER),
                },
              ]
            : [];
          const result = nextPromotionTime(new Date(now), windows, freezes);
          let expected: number | undefined;
          if (isPromotionAllowed(new Date(now), windows, freezes)) expected = now;
          else {
            // Every window opens within 8 days; a freeze adds at most ~4 days.
            for (let t = base; t <= now + 14 * 86_400_000; t += QUARTER) {
              if (isPromotionAllowed(new Date(t), windows, freezes)) {
                expected = t;
                break;
              }
            }
          }
          assert.notEqual(expected, undefined, 'the scan found no allowed instant');
          assert.equal(result?.getTime(), expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('agrees with the scan in the hours around DST transitions', () => {
    const year = [Date.parse('2026-01-01T00:00:00Z'), Date.parse('2027-01-01T00:00:00Z')] as const;
    const transitions = [
      'Europe/Berlin',
      'America/New_York',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'America/St_Johns',
    ].flatMap((zone) => offsetTransitions(zone, ...year).map((at) => ({ zone, at })));
    assert.equal(transitions.length, 10);
    const caseArb = fc.record({
      transition: fc.constantFrom(...transitions),
      before: fc.integer({ min: 0, max: 36 * 4 }),
      days: fc.subarray(DAYS, { minLength: 1 }),
      from: fc.integer({ min: 4, max: 16 }),
      to: fc.integer({ min: 0, max: 95 }),
    });
    fc.assert(
      fc.property(caseArb, ({ transition, before, days, from, to }) => {
        const windows = [{ days, from: hhmm(from), to: hhmm(to), timezone: transition.zone }];
        const now = transition.at - before * QUARTER;
        let expected: number | undefined;
        for (let t = now; t <= now + 9 * 86_400_000; t += QUARTER) {
          if (isPromotionAllowed(new Date(t), windows, [])) {
            expected = t;
            break;
          }
        }
        assert.equal(nextPromotionTime(new Date(now), windows, [])?.getTime(), expected);
      }),
      { numRuns: 200 },
    );
  });
});
