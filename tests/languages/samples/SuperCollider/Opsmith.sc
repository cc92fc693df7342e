Opsmith {
    *new { ^super.new.init }
    init { "ready".postln }
}
