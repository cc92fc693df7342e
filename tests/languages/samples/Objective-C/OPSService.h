#import <Foundation/Foundation.h>

@interface OPSService : NSObject
@property (nonatomic, copy) NSString *name;
@end
