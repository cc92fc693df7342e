uses java.util.ArrayList

class Greeter {
  function hello() : String { return "hi" }
}
