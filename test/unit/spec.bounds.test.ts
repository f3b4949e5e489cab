// Defects fuzzing found in the release spec schema, one test each: a bad quantity beside a limit
// threw inside the schema; integers above int32 reached the apiserver (which answers 500); zero
// replicas; a regression check on a gate that never records a score; the bounds of durations that
// become activity or Job timeouts; and the consecutive-error limit every gate has.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReleaseSpec } from '../../workflows/spec/index.ts';
import { full, issuePaths, messages, minimal, set } from './spec-fixtures.ts';

const INT32_OVERFLOW = 2_147_483_648;

/** The minimal spec with `serving` fields merged in. */
function serving(fields: Record<string, unknown>): unknown {
  return { ...minimal, serving: { ...minimal.serving, ...fields } };
}

/** The minimal spec with one gate (merged into a valid prometheus gate) listed in canary. */
function withGate(fields: Record<string, unknown>): unknown {
  const gate = { name: 'g', prometheus: { query: 'up' }, pass: { min: 1 }, ...fields };
  return { ...minimal, canary: { steps: [{ weight: 10 }], gates: ['g'] }, gates: [gate] };
}

describe('ReleaseSpec: quantities never make the schema throw', () => {
  const cases: Array<[string, Record<string, unknown>, PropertyKey[][]]> = [
    [
      'a cpu request that is no quantity, with a cpu limit',
      { requests: { cpu: 'fz' }, limits: { cpu: '1' } },
      [['serving', 'resources', 'requests', 'cpu']],
    ],
    [
      'a cpu limit that is no quantity, with a cpu request',
      { requests: { cpu: '1' }, limits: { cpu: 'fz' } },
      [['serving', 'resources', 'limits', 'cpu']],
    ],
    [
      'a blank GPU request and limit',
      { requests: { 'nvidia.com/gpu': ' ' }, limits: { 'nvidia.com/gpu': ' ' } },
      [
        ['serving', 'resources', 'requests', 'nvidia.com/gpu'],
        ['serving', 'resources', 'limits', 'nvidia.com/gpu'],
      ],
    ],
    [
      'a quantity beyond a double',
      { requests: { memory: '1e400' } },
      [['serving', 'resources', 'requests', 'memory']],
    ],
    ['a quantity above 2^53', { limits: { cpu: '1e16' } }, [['serving', 'resources', 'limits', 'cpu']]],
    [
      'a quantity that is an object',
      { requests: { cpu: {} }, limits: { cpu: '1' } },
      [['serving', 'resources', 'requests', 'cpu']],
    ],
  ];
  for (const [what, resources, paths] of cases) {
    it(`reports ${what} as an issue at its path`, () => {
      const input = serving({ resources });
      assert.doesNotThrow(() => ReleaseSpec.safeParse(input));
      assert.deepEqual(issuePaths(input), paths);
    });
  }

  it('still compares requests and limits that are quantities', () => {
    assert.deepEqual(
      messages(serving({ resources: { requests: { cpu: '2', memory: 'x' }, limits: { cpu: '1' } } })),
      [
        'must be a non-negative Kubernetes quantity such as 2, 500m, 1.5 or 8Gi',
        'the cpu limit (1) is below its request (2)',
      ],
    );
    assert.equal(
      ReleaseSpec.safeParse(serving({ resources: { requests: { memory: '8Pi' } } })).success,
      true,
    );
  });
});

describe('ReleaseSpec: every integer that goes to Kubernetes fits an int32 and a sensible range', () => {
  const tooBig: Array<[string, unknown, PropertyKey[]]> = [
    [
      'maxSurge',
      serving({ rollingUpdate: { maxSurge: INT32_OVERFLOW } }),
      ['serving', 'rollingUpdate', 'maxSurge'],
    ],
    [
      'maxUnavailable',
      serving({ rollingUpdate: { maxUnavailable: INT32_OVERFLOW } }),
      ['serving', 'rollingUpdate', 'maxUnavailable'],
    ],
    ['replicas', serving({ replicas: INT32_OVERFLOW }), ['serving', 'replicas']],
    [
      'progressDeadlineSeconds',
      serving({ progressDeadlineSeconds: INT32_OVERFLOW }),
      ['serving', 'progressDeadlineSeconds'],
    ],
    ...(
      [
        'initialDelaySeconds',
        'periodSeconds',
        'timeoutSeconds',
        'failureThreshold',
        'successThreshold',
      ] as const
    ).map((field): [string, unknown, PropertyKey[]] => [
      `readiness.${field}`,
      serving({ probes: { readiness: { tcpSocket: {}, [field]: INT32_OVERFLOW } } }),
      ['serving', 'probes', 'readiness', field],
    ]),
    [
      'a build Job backoffLimit',
      { ...minimal, build: { job: { image: 'e', backoffLimit: INT32_OVERFLOW } } },
      ['build', 'job', 'backoffLimit'],
    ],
    ['failureLimit', withGate({ failureLimit: INT32_OVERFLOW }), ['gates', 0, 'failureLimit']],
    [
      'consecutiveSuccesses',
      withGate({ consecutiveSuccesses: INT32_OVERFLOW }),
      ['gates', 0, 'consecutiveSuccesses'],
    ],
  ];
  for (const [what, input, path] of tooBig) {
    it(`rejects ${what} of 2147483648 at its path`, () => {
      assert.deepEqual(issuePaths(input), [path]);
    });
  }

  it('takes the largest sensible values and refuses one more', () => {
    const limits: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ replicas: 10_000 }, { replicas: 10_001 }],
      [{ rollingUpdate: { maxSurge: 10_000 } }, { rollingUpdate: { maxSurge: 10_001 } }],
      [{ rollingUpdate: { maxSurge: '100%' } }, { rollingUpdate: { maxSurge: '101%' } }],
      [{ progressDeadlineSeconds: 86_400 }, { progressDeadlineSeconds: 86_401 }],
      [
        { probes: { startup: { tcpSocket: {}, failureThreshold: 10_000 } } },
        { probes: { startup: { tcpSocket: {}, failureThreshold: 10_001 } } },
      ],
      [
        { probes: { readiness: { tcpSocket: {}, periodSeconds: 3_600 } } },
        { probes: { readiness: { tcpSocket: {}, periodSeconds: 3_601 } } },
      ],
    ];
    for (const [largest, tooLarge] of limits) {
      assert.equal(ReleaseSpec.safeParse(serving(largest)).success, true, JSON.stringify(largest));
      assert.equal(ReleaseSpec.safeParse(serving(tooLarge)).success, false, JSON.stringify(tooLarge));
    }
  });

  it('rejects zero replicas: a release needs a pod to serve', () => {
    assert.deepEqual(messages(serving({ replicas: 0 })), [
      'must be a whole number of replicas from 1 to 10000',
    ]);
  });
});

describe('ReleaseSpec: durations have sensible upper bounds', () => {
  it('bounds the HTTP gate timeout at 5 minutes (the measuring activity waits that long)', () => {
    const http = (timeout: string) => ({
      ...minimal,
      build: { gates: ['g'] },
      gates: [{ name: 'g', http: { url: 'http://e/s', value: '$', timeout }, pass: { min: 0 } }],
    });
    assert.equal(ReleaseSpec.safeParse(http('5m')).success, true);
    assert.deepEqual(messages(http('5m1s')), ['must be at most 5m']);
    assert.deepEqual(issuePaths(http('1d')), [['gates', 0, 'http', 'timeout']]);
  });

  it('bounds holds, pauses, approvals and shadow at 366 days, gate intervals at a day, Jobs at a day (gate) or a week (build)', () => {
    const cases: Array<[unknown, PropertyKey[]]> = [
      [set(['canary', 'steps', 0, 'hold'], '367d'), ['canary', 'steps', 0, 'hold']],
      [
        set(['canary', 'steps', 2, 'approval', 'timeout'], '367d'),
        ['canary', 'steps', 2, 'approval', 'timeout'],
      ],
      [set(['shadow', 'duration'], '99999999d'), ['shadow', 'duration']],
      [set(['promote', 'approval', 'timeout'], '367d'), ['promote', 'approval', 'timeout']],
      [set(['gates', 0, 'interval'], '25h'), ['gates', 0, 'interval']],
      [set(['build', 'job', 'timeout'], '8d'), ['build', 'job', 'timeout']],
    ];
    for (const [input, path] of cases) assert.deepEqual(issuePaths(input), [path]);
    assert.equal(ReleaseSpec.safeParse(set(['canary', 'steps', 0, 'hold'], '366d')).success, true);
  });

  it('reports a range duration that is no duration as an issue (the step check does not throw)', () => {
    const range = (duration: unknown, step: unknown) =>
      withGate({ prometheus: { query: 'up', range: { duration, step } } });
    assert.doesNotThrow(() => ReleaseSpec.safeParse(range('日本語', '1s')));
    assert.deepEqual(issuePaths(range('日本語', '1s')), [['gates', 0, 'prometheus', 'range', 'duration']]);
    assert.deepEqual(issuePaths(range('5m', 'soon')), [['gates', 0, 'prometheus', 'range', 'step']]);
  });

  it('refuses a Prometheus range of more than 11,000 points per series', () => {
    const range = (duration: string, step: string) =>
      withGate({ prometheus: { query: 'up', range: { duration, step } } });
    assert.equal(ReleaseSpec.safeParse(range('1d', '8s')).success, true);
    assert.deepEqual(issuePaths(range('1d', '7s')), [['gates', 0, 'prometheus', 'range', 'step']]);
  });
});

describe('ReleaseSpec: regression needs a build gate', () => {
  function regressionGate(stages: { build?: boolean; canary?: boolean }): unknown {
    const spec = full();
    spec.build = { gates: stages.build ? ['accuracy'] : [] };
    spec.canary!.gates = [...spec.canary!.gates!, ...(stages.canary ? ['accuracy'] : [])];
    spec.gates![2] = { ...spec.gates![2]!, regression: { better: 'higher' } };
    return spec;
  }

  it('refuses regression on a gate listed only in canary, naming the gate and where it is used', () => {
    assert.deepEqual(issuePaths(regressionGate({ canary: true })), [['gates', 2, 'regression']]);
    assert.match(
      messages(regressionGate({ canary: true }))[0]!,
      /gate accuracy .*build\.gates.*listed only in canary\.gates/,
    );
  });

  it('refuses regression on a gate no stage lists', () => {
    assert.match(messages(regressionGate({}))[0]!, /gate accuracy .*no stage lists it/);
  });

  it('accepts regression on a build gate, also when canary lists it too', () => {
    assert.equal(ReleaseSpec.safeParse(regressionGate({ build: true })).success, true);
    assert.equal(ReleaseSpec.safeParse(regressionGate({ build: true, canary: true })).success, true);
  });
});

describe('ReleaseSpec: consecutiveErrorLimit', () => {
  it('defaults to 3 on every gate', () => {
    const spec = ReleaseSpec.parse(full());
    assert.deepEqual(
      spec.gates.map((gate) => gate.consecutiveErrorLimit),
      [3, 3, 3],
    );
  });

  it('is a whole number from 1 to 100', () => {
    assert.equal(
      ReleaseSpec.parse(withGate({ consecutiveErrorLimit: 100 })).gates[0]?.consecutiveErrorLimit,
      100,
    );
    for (const bad of [0, 101, 1.5, '3', INT32_OVERFLOW]) {
      assert.deepEqual(
        issuePaths(withGate({ consecutiveErrorLimit: bad })),
        [['gates', 0, 'consecutiveErrorLimit']],
        String(bad),
      );
    }
  });
});

describe('ReleaseSpec: a __proto__ key in a map is refused, not dropped', () => {
  it('names it in labels, annotations and resources (JSON.parse makes it an own key)', () => {
    const input = (serving: string) =>
      JSON.parse(`{"model":"m","namespace":"n","version":"v","serving":{"image":"i",${serving}}}`) as unknown;
    assert.deepEqual(issuePaths(input('"labels":{"__proto__":"x","team":"risk"}')), [
      ['serving', 'labels', '__proto__'],
    ]);
    assert.deepEqual(issuePaths(input('"annotations":{"__proto__":"x"}')), [
      ['serving', 'annotations', '__proto__'],
    ]);
    assert.deepEqual(issuePaths(input('"resources":{"requests":{"__proto__":"1"}}')), [
      ['serving', 'resources', 'requests', '__proto__'],
    ]);
  });
});

describe('ReleaseSpec: images are references a container runtime can pull', () => {
  it('accepts registry, port, path, tag and digest forms', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    for (const image of [
      'triton:24.05',
      'nvcr.io/nvidia/tritonserver:24.05-py3',
      'localhost:5000/a/b:v2_rc-1',
      `r.example/s@${digest}`,
    ])
      assert.equal(ReleaseSpec.safeParse(serving({ image })).success, true, image);
  });

  it('refuses blanks, spaces, upper-case paths, URLs and unicode at the image field (the apiserver takes them; the kubelet does not)', () => {
    for (const image of [
      ' ',
      ' triton:24.05',
      'Triton:24.05',
      'https://registry/x',
      '\u202eevil',
      'x@sha256:abc',
    ])
      assert.deepEqual(issuePaths(serving({ image })), [['serving', 'image']], JSON.stringify(image));
    assert.deepEqual(issuePaths({ ...minimal, build: { job: { image: 'a b' } } }), [
      ['build', 'job', 'image'],
    ]);
  });
});
