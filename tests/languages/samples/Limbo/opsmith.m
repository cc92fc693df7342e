Opsmith: module
{
	init: fn();
};
