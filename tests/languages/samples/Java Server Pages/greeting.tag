<%@ tag description="Opsmith greeting" pageEncoding="UTF-8" %>
<%@ attribute name="name" required="true" %>
<p>Hello, ${name}</p>
