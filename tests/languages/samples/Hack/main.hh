<?hh // strict
function main(): void {
  echo "hello";
}
