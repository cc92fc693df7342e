DeclareGlobalFunction("OpsmithSum");
InstallGlobalFunction(OpsmithSum, function(l) return Sum(l); end);
