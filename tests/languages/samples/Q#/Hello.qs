namespace Opsmith.Quantum {
    operation HelloQ() : Unit {
        Message("Hello");
    }
}
