// A stack of undo steps: every part a lab starts pushes how to stop it, and teardown runs them
// newest first, each one even when an earlier one failed, collecting what went wrong.

export class Teardown {
  private readonly steps: { name: string; undo: () => unknown }[] = [];
  private running: Promise<string[]> | undefined;

  /** Adds a step; the function returned runs it early (once) and takes it off the stack. */
  push(name: string, undo: () => unknown): () => Promise<void> {
    const step = { name, undo };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step.undo();
    };
  }

  /** Runs every step, newest first; resolves with the failures ("name: message"). Safe to call twice. */
  run(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const s of this.steps.splice(0).reverse()) {
        try {
          await s.undo();
        } catch (err) {
          failures.push(`${s.name}: ${(err as Error).message}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
