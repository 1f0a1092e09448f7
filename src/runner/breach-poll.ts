const pollMs = 50;

/**
 * Asks `breached` every 50 ms, one question at a time, until it says yes; then calls `onBreach`
 * once. Returns the function that stops asking. The cgroup limits report a breach only in a
 * counter file, so it is read on a timer.
 */
export function pollForBreach(breached: () => Promise<boolean>, onBreach: () => void): () => void {
  let polling = false;
  let timer: NodeJS.Timeout | undefined = setInterval(() => {
    if (polling) return;
    polling = true;
    void breached().then((yes) => {
      polling = false;
      if (yes && timer !== undefined) {
        stop();
        onBreach();
      }
    });
  }, pollMs);
  const stop = () => {
    clearInterval(timer);
    timer = undefined;
  };
  return stop;
}
