/**
 * An interrupt line (QEMU qemu_irq): a level that a device drives and one
 * handler (the interrupt controller, or qtest's irq_intercept) observes.
 * Edge-triggered sources use pulse().
 */
export type IrqHandler = (level: number) => void;

export class IrqLine {
  private lvl = 0;
  private handler: IrqHandler | undefined;

  constructor(readonly name: string) {}

  /** Connects the receiving side; returns the previous handler. */
  connect(handler: IrqHandler | undefined): IrqHandler | undefined {
    const old = this.handler;
    this.handler = handler;
    return old;
  }

  get level(): number {
    return this.lvl;
  }

  set(level: number): void {
    const l = level ? 1 : 0;
    this.lvl = l;
    this.handler?.(l);
  }

  raise(): void {
    this.set(1);
  }

  lower(): void {
    this.set(0);
  }

  pulse(): void {
    this.set(1);
    this.set(0);
  }
}
