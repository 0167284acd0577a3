package i18n

// Messages of the customer archive's Excel/CSV import and export.
func init() {
	for k, e := range map[string]entry{
		"entity.import":        {"导入任务", "Import"},
		"entity.import_report": {"错误报告", "Error report"},

		"customers.import_invalid_file":      {"不是有效的 .xlsx 或 .csv 文件", "Not a valid .xlsx or .csv file"},
		"customers.import_xls":               {"不支持旧版 .xls 文件或加密的工作簿，请在 Excel 中另存为 .xlsx（不设密码）后再导入", "Legacy .xls files and encrypted workbooks are not supported; save the file as .xlsx (without a password) and import again"},
		"customers.import_too_big":           {"文件解压后超过 %d MB，可能已损坏或不是表格文件", "The file inflates to more than %d MB; it may be damaged or not a spreadsheet"},
		"customers.import_too_many_rows":     {"数据行过多：一次最多导入 %d 行，请拆分文件", "Too many data rows: at most %d per import; split the file"},
		"customers.import_empty":             {"文件中没有数据行", "The file has no data rows"},
		"customers.import_missing_columns":   {"缺少必填列：%s（请使用导入模板）", "Required column(s) missing: %s (use the import template)"},
		"customers.import_unknown_columns":   {"无法识别的列：%s（列名须与导入模板一致）", "Unknown column(s): %s (column names must match the import template)"},
		"customers.import_duplicate_columns": {"列重复出现：%s", "Column(s) appear more than once: %s"},
		"customers.import_multipart":         {"请把文件本身作为请求内容上传，不要使用 multipart/form-data", "Send the file itself as the request body, not as multipart/form-data"},
		"customers.import_unknown_owner":     {"找不到在职用户“%s”（请填写用户名）", "no active user \"%s\" (enter the username)"},
		"customers.import_dup_in_file":       {"与第 %d 行重复", "duplicates row %d"},
		"customers.import_dup_hidden":        {"与一个您无权查看的已有客户重复，无法更新", "matches an existing account outside your data scope; it cannot be updated"},
		"customers.import_target_gone":       {"要更新的客户在导入过程中已被合并或删除，请重新导入", "An account to update was merged or deleted during the import; import again"},
		"customers.import_user_inactive":     {"导入人账户已停用或没有导入权限", "The importing user is disabled or no longer allowed to import"},
		"customers.import_failed":            {"导入因内部错误失败，未写入任何数据，请重试", "The import failed with an internal error; nothing was written. Try again"},
		"customers.import_row_reason":        {"第 %d 行：%s", "Row %d: %s"},
	} {
		if _, dup := catalog[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		catalog[k] = e
	}
}
