/**
 * Child processes of the tests run without coverage. `deno test --coverage` hands its directory to
 * every process it starts (DENO_COVERAGE_DIR), and each CLI or server process then writes one file
 * per loaded module: over 100,000 files for the CLI tests alone, most of a CI run's disk traffic.
 * Coverage is that of the code the test processes run themselves.
 */
Deno.env.delete("DENO_COVERAGE_DIR");
