extends Node2D

var speed = 200

func _ready():
    print("ready")
