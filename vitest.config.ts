import { defineConfig } from 'vitest/config';

// One test run covers the executable specification (spec/), the property suites (properties/)
// and the unit tests that sit next to the code (src/**/*.test.ts).
export default defineConfig({
  test: {
    include: ['spec/**/*.test.ts', 'properties/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['verbose'],
    pool: 'forks',
  },
});
