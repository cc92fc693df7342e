defmodule Opsmith.Greeter do
  @moduledoc "Greets people."
  def hello(name), do: "Hello #{name}"
end
