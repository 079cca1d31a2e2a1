/**
 * Synchronous clean-ups run when this Node process exits for any reason (normal end, uncaught
 * exception, process.exit, or a signal the host turns into an exit), so a test run that fails
 * still stops the servers it started. Only synchronous work is possible at that point.
 */
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // Exiting anyway: one failed clean-up must not prevent the others.
    }
  }
}

/** Registers `cleanup` to run at exit; the returned function unregisters it. */
export function onExitCleanup(cleanup: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on("exit", runAll);
  }
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
