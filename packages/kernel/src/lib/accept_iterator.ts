// The async iteration of a listener (`for await (const conn of listener)`), shared by kiln:vsock
// and kiln:net (Deno's Listener shape): each step is accept(); the listener's own "closed"
// error ends the loop; leaving the loop early (break, throw) closes the listener.

export function acceptIterator<C>(listener: { accept(): Promise<C>; close(): void }, isClosedError: (e: unknown) => boolean): AsyncIterator<C> {
  const done = { value: undefined, done: true } as IteratorResult<C>;
  return {
    next: () =>
      listener.accept().then(
        (value) => ({ value, done: false }),
        (e: unknown) => {
          if (isClosedError(e)) return done;
          throw e;
        },
      ),
    return: () => {
      listener.close();
      return Promise.resolve(done);
    },
  };
}
