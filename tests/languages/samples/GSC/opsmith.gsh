#using scripts\shared\util_shared;
function init()
{
    level thread main();
}
