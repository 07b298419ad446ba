/**
 * A threaded interrupt handler's loop (Linux irq_thread): `work` runs until
 * no interrupt arrived while it ran; a wake-up from inside the work (an
 * interrupt taken meanwhile) asks for one more pass instead of nesting.
 */
export class IrqThread {
  private running = false;
  private again = false;

  constructor(private readonly work: () => void) {}

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        this.work();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }
}
