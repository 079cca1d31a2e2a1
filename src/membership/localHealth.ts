/**
 * Lifeguard's local health multiplier: a score of how much this member doubts its own
 * timeliness. It rises when our probes fail while the members we asked for help did not even
 * send their nacks (our own receive path or event loop is probably slow), when we must refute a
 * suspicion of ourselves, and when our own timers fire late; it falls with every successful
 * probe. Probe rounds and probe timeouts are stretched by (score + 1), so a member that is
 * struggling probes less aggressively instead of accusing healthy members.
 */
export class LocalHealth {
  private current = 0;

  constructor(private readonly max: number) {}

  get score(): number {
    return this.current;
  }

  /** Factor for probe intervals and timeouts. */
  get multiplier(): number {
    return this.current + 1;
  }

  /** Moves the score by `delta`, within [0, max]; returns whether it changed. */
  apply(delta: number): boolean {
    const next = Math.max(0, Math.min(this.max, this.current + delta));
    if (next === this.current) return false;
    this.current = next;
    return true;
  }
}
