import scala.io.StdIn

class Greeter {
  def hello(name: String): String = s"Hello $name"
}
