module Opsmith {
  active component Greeter {
    async input port run: Svc.Sched
  }
}
