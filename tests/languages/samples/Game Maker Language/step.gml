/// @description Move the player
var spd = 4;
if (keyboard_check(vk_right)) { x += spd; }
