/**
 * The terminal for the live view: lines that stay (the event log) are written
 * above a block that is redrawn in place (the view). The block is erased by moving
 * the cursor up over it, so its lines must fit the width (liveView cuts them).
 */
export class LiveScreen {
  private drawn = 0;

  constructor(private readonly out: NodeJS.WritableStream) {}

  begin(): void {
    this.out.write('\x1b[?25l');
  }

  /** Writes `log` lines for good, then the view in place of the previous one. */
  draw(log: readonly string[], view: readonly string[]): void {
    let text = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '';
    for (const line of log) text += `${line}\n`;
    for (const line of view) text += `${line}\n`;
    this.drawn = view.length;
    this.out.write(text);
  }

  /** Leaves the last view on screen and gives the cursor back. */
  end(): void {
    this.out.write('\x1b[0m\x1b[?25h');
  }
}
