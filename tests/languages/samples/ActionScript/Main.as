package com.opsmith {
    import flash.display.Sprite;
    public class Main extends Sprite {
        public function Main() {
            trace("hello");
        }
    }
}
