<#-- opsmith template -->
<html>
<body>
  <h1>Hello ${user}!</h1>
</body>
</html>
