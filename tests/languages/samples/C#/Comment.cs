// A record without any using directive.
public record Service(string Name, int Port);
