class OpsmithActor extends Actor;

function PostBeginPlay()
{
    Super.PostBeginPlay();
}
