"""Service dates, holidays and the Jalali calendar: the law eblagh applies."""
