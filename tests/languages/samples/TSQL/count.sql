DECLARE @count INT;
SELECT @count = COUNT(*) FROM [dbo].[Services];
GO
