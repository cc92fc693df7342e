<?hh
function main(): void {}
